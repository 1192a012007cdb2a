"""The library's names: each exported name means one thing, and the package docstring lists exactly the modules there are.

nbdev writes `nlpbook/__init__.py`'s module list on export from the modules' docstrings (a module is listed once its
notebook exports an intro paragraph with `#| export`), so these checks fail when a new chapter forgets that, or
when two chapters export the same name with different meanings.
"""
import ast, re
from collections import defaultdict
from pathlib import Path

LIB = Path(__file__).parent.parent/'nlpbook'
# Command-line entry points: every module that is also a command has a `main`.
SHARED_ON_PURPOSE = {'main'}


def module_files(lib: Path = LIB) -> list[Path]:
    "The library's modules (not `__init__` or nbdev's `_modidx`)"
    return sorted(p for p in lib.glob('*.py') if not p.stem.startswith('_'))


def exported_definitions(path: Path) -> set[str]:
    "Names in `path`'s `__all__` that the module itself defines (def, class or assignment), not re-exports"
    tree = ast.parse(path.read_text(encoding='utf-8'))
    all_names = next((ast.literal_eval(n.value) for n in tree.body if isinstance(n, ast.Assign)
                      and any(getattr(t, 'id', None) == '__all__' for t in n.targets)), [])
    defined = set()
    for n in tree.body:
        if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)): defined.add(n.name)
        elif isinstance(n, (ast.Assign, ast.AnnAssign)):
            for t in (n.targets if isinstance(n, ast.Assign) else [n.target]):
                defined |= {x.id for x in ast.walk(t) if isinstance(x, ast.Name)}
    return set(all_names) & defined


def clashes(files) -> dict[str, list[str]]:
    "Exported names defined by more than one module, with those modules"
    where = defaultdict(list)
    for p in files:
        for name in exported_definitions(p): where[name].append(p.stem)
    return {n: ms for n, ms in where.items() if len(ms) > 1 and n not in SHARED_ON_PURPOSE}


def test_clashes_finds_a_name_defined_twice(tmp_path):
    (tmp_path/'a.py').write_text("__all__ = ['evaluate', 'main']\ndef evaluate(): pass\ndef main(): pass\n")
    (tmp_path/'b.py').write_text("__all__ = ['evaluate', 'main', 'load']\nfrom a import load\ndef evaluate(): pass\n"
                                 "def main(): pass\n")
    assert clashes(sorted(tmp_path.glob('*.py'))) == {'evaluate': ['a', 'b']}


def test_each_exported_name_means_one_thing():
    assert clashes(module_files()) == {}


def test_package_docstring_lists_every_module_and_no_other():
    doc = ast.get_docstring(ast.parse((LIB/'__init__.py').read_text(encoding='utf-8'))) or ''
    listed = re.findall(r'^- `nlpbook\.(\w+)`', doc, re.M)
    assert listed == [p.stem for p in module_files()]
