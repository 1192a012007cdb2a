"""Every optional dependency the library imports is named by a `require` first, with an extra that installs it.

pyproject.toml's extras say which optional package comes with which extra (`torch` with `hf`, `fastai` with
`fastai`, `pyspark` with `prod` and `mlops`, ...). A module that imports one without asking `require` first
fails with a bare `ModuleNotFoundError` where the package is missing; with `require`, it says which
`pip install "nlpbook-enterprise[extra]"` brings it (`nlpbook.models.MissingExtraError`). This file reads the
library's source (the exported modules and the hand-written kernels) and checks each import of an optional
package:

- at module level, a `require(...)` naming the package comes before it, in the module's own top level;
- inside a function, a `require(...)` naming it comes before it in that function (or at module level);
- the `extra=` of that `require` is one whose installation brings the package (directly or as a dependency).

Imports inside `try: ... except ImportError` handle absence themselves and are left alone, as are the few
listed in `HANDLED` with the reason. Then each module-level `require` is exercised for real: importing the
module with one of the packages it names made absent (`uninstalled`) raises `MissingExtraError` naming the extra.
"""
import ast, importlib, re, tomllib
from functools import lru_cache
from importlib.metadata import PackageNotFoundError, packages_distributions, requires
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from nlpbook.models import MissingExtraError, install_hint, uninstalled

ROOT = Path(__file__).resolve().parents[1]
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())
# (file, top-level package) -> why no `require` is needed there
HANDLED = {
    ("kernels/flash_attention.py", "triton"): "Triton is optional: without it HAS_TRITON is False and the kernels run PyTorch",
    ("kernels/adaptive_span.py", "triton"): "imported only under `if _fa.HAS_TRITON`",
    ("nlpbook/docs.py", "tomli"): "Python 3.10's stand-in for tomllib, imported only where `import tomllib` failed",
    ("nlpbook/testgen.py", "pytest"): "only the generated tests call it, inside pytest",
    ("nlpbook/testgen.py", "_pytest"): "only the generated tests call it, inside pytest",
}


def source_files() -> list[Path]:
    "The library's modules as they install: nlpbook/*.py (exported) and kernels/*.py (nlpbook.kernels)"
    return sorted([*(ROOT / "nlpbook").glob("*.py"), *(ROOT / "kernels").glob("*.py")])


def module_name(path: Path) -> str:
    pkg = "nlpbook" if path.parent.name == "nlpbook" else "nlpbook.kernels"
    return pkg if path.stem == "__init__" else f"{pkg}.{path.stem}"


@lru_cache(None)
def _dist_modules() -> dict:
    "Canonical distribution name -> the top-level modules it installs (from installed metadata)"
    res = {}
    for mod, dists in packages_distributions().items():
        for d in dists: res.setdefault(canonicalize_name(d), set()).add(mod)
    return res


def _closure(names) -> set:
    "Canonical names of `names` and of everything they depend on (installed metadata; extras of dependencies ignored)"
    seen, todo = set(), [canonicalize_name(n) for n in names]
    while todo:
        n = todo.pop()
        if n in seen: continue
        seen.add(n)
        try: reqs = requires(n) or []
        except PackageNotFoundError: continue
        todo += [canonicalize_name(r.name) for r in map(Requirement, reqs) if not (r.marker and "extra" in str(r.marker))]
    return seen


@lru_cache(None)
def extras_of() -> dict:
    "Top-level module -> the extras whose installation brings it; modules of the base dependencies are not optional"
    base = _closure(Requirement(r).name for r in PYPROJECT["project"]["dependencies"])
    res = {}
    for extra, reqs in PYPROJECT["project"]["optional-dependencies"].items():
        for dist in _closure(Requirement(r).name for r in reqs) - base:
            for mod in _dist_modules().get(dist, {dist.replace("-", "_")}): res.setdefault(mod, set()).add(extra)
    return res


def _imported(node) -> list[str]:
    "Top-level packages an import statement imports (absolute imports only)"
    if isinstance(node, ast.Import): return [a.name.split(".")[0] for a in node.names]
    if isinstance(node, ast.ImportFrom) and not node.level and node.module: return [node.module.split(".")[0]]
    return []


def _required(node) -> tuple[list[str], str | None]:
    "(modules, extra) of a `require(...)` call statement, else ([], None)"
    call = node.value if isinstance(node, ast.Expr) else None
    if not (isinstance(call, ast.Call) and getattr(call.func, "id", getattr(call.func, "attr", None)) == "require"): return [], None
    extra = next((k.value.value for k in call.keywords if k.arg == "extra" and isinstance(k.value, ast.Constant)), None)
    return [a.value for a in call.args if isinstance(a, ast.Constant)], extra


def _handles_import_error(node) -> bool:
    return isinstance(node, ast.Try) and any(
        h.type is None or any(getattr(t, "id", None) in ("ImportError", "ModuleNotFoundError", "Exception")
                              for t in (h.type.elts if isinstance(h.type, ast.Tuple) else [h.type]))
        for h in node.handlers)


def unguarded_imports(src: str, where: str = "<src>") -> list[str]:
    "Problems: imports of optional packages in `src` that no earlier `require` names with an extra that brings them"
    opt, problems = extras_of(), []
    def walk(nodes, outer, in_try):
        required = dict(outer)   # module -> extra, as this scope's `require` calls are met, in order
        for node in nodes:
            mods, extra = _required(node)
            required.update(dict.fromkeys(mods, extra))
            for pkg in _imported(node):
                if pkg not in opt or in_try or (where, pkg) in HANDLED: continue
                if pkg not in required:
                    problems.append(f"{where}:{node.lineno}: imports {pkg} with no `require` before it "
                                    f"(extra: {' or '.join(sorted(opt[pkg]))})")
                elif required[pkg] not in opt[pkg]:
                    problems.append(f"{where}:{node.lineno}: require names extra {required[pkg]!r} for {pkg}, "
                                    f"which {' or '.join(sorted(opt[pkg]))} installs")
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)): walk(node.body, required, False)
            elif isinstance(node, ast.Try):
                walk(node.body, required, in_try or _handles_import_error(node))
                for part in [*(h.body for h in node.handlers), node.orelse, node.finalbody]: walk(part, required, in_try)
            else:   # if / for / while / with: the same scope
                for part in (getattr(node, "body", None), getattr(node, "orelse", None)):
                    if isinstance(part, list): walk(part, required, in_try)
    walk(ast.parse(src).body, {}, False)
    return problems


def test_extras_map_knows_the_optional_packages():
    opt = extras_of()
    assert opt["torch"] >= {"hf", "fastai"} and opt["fastai"] == {"fastai"} and opt["pyspark"] == {"prod", "mlops"}
    assert opt["mlflow"] == {"mlops"} and opt["streamlit"] == {"apps"} and opt["nbdev"] == {"dev"}
    assert "spacy" not in opt and "pandas" not in opt and "numpy" not in opt   # base dependencies


def test_the_check_catches_unguarded_imports():
    "The check is only evidence if it flags what it must, and passes what is right"
    assert unguarded_imports("import torch\n") == ["<src>:1: imports torch with no `require` before it (extra: fastai or hf)"]
    assert unguarded_imports("def f():\n    from sklearn.svm import LinearSVC\n")[0].startswith("<src>:2: imports sklearn")
    assert unguarded_imports("require('torch', extra='hf')\nimport torch\ndef f():\n    import torch.nn\n") == []
    assert unguarded_imports("def f():\n    require('pyspark', extra='apps')\n    import pyspark\n") == [
        "<src>:3: require names extra 'apps' for pyspark, which mlops or prod installs"]
    assert unguarded_imports("def f():\n    require('fastai', extra='fastai')\ndef g():\n    import fastai\n")[0].startswith("<src>:4:")
    assert unguarded_imports("try: import regex as re\nexcept ImportError: import re\n") == []
    assert unguarded_imports("import json, spacy, pandas\n") == []


@pytest.mark.parametrize("path", source_files(), ids=lambda p: f"{p.parent.name}/{p.name}")
def test_optional_imports_are_required_first(path):
    where = f"{path.parent.name}/{path.name}"
    assert unguarded_imports(path.read_text(encoding="utf-8"), where) == []


def module_requires() -> list[tuple[str, str, str]]:
    "(module, package, extra) for every module-level `require` in the library's source"
    res = []
    for path in source_files():
        for node in ast.parse(path.read_text(encoding="utf-8")).body:
            mods, extra = _required(node)
            res += [(module_name(path), m, extra) for m in mods]
    return res


def test_module_requires_found():
    found = {(m, p) for m, p, _ in module_requires()}
    assert {("nlpbook.ulmfit", "fastai"), ("nlpbook.attention", "torch"), ("nlpbook.serving", "mlflow"),
            ("nlpbook.kernels.flash_attention", "torch"), ("nlpbook.testgen", "nbdev")} <= found


@pytest.mark.parametrize("module,package,extra", module_requires(), ids=lambda x: x)
def test_import_without_the_package_names_the_extra(module, package, extra):
    "Importing the module with `package` absent raises MissingExtraError naming `pip install \"<dist>[extra]\"`"
    with uninstalled(package, fresh=(module,)):
        with pytest.raises(MissingExtraError, match=re.escape(f"needs {package}")) as e:
            importlib.import_module(module)
    assert str(e.value).endswith(f"Install it with: {install_hint(extra)}")
