"""Every notebook's generated tests run alone: its last test and one from the middle, each by its id, in a fresh process.

Run alone, a test first runs the cells before it (`nlpbook.testgen.NotebookCells`), so `pytest FILE::TEST`, `-k`
and `--lf` work. A fresh process per test makes sure nothing that another test left in the process helps it.
The middle and last tests of the heaviest notebooks rerun most of their notebook, so they are `slow` (deselected
by default; `pytest -m slow tests/test_generated_alone.py` runs them); the light ones run in every CI.
"""
import os, re, subprocess, sys
from pathlib import Path

import pytest

TESTS = Path(__file__).parent
# The generated files whose middle and last tests take over 30 s alone (measured 2026-12-06 on the 2-core box):
# running them again would add minutes to CI for what the light files already prove.
HEAVY = {'01_spacy_basics', '02_ulmfit', '02a_hf_inference', '03_ag_news_textcat', '03c_custom_ner', '03d_transformer_ner',
         '04a_subword_tokenizers', '05_embeddings', '05a_word2vec', '05b_rnn_classifier', '06_rnns',
         '07_transformers', '07a_attention_variants', '07b_triton_attention', '08_bertology', '10_streamlit_apps',
         '11_batch_ner', '11b_mlflow', '12_lessons', '91_docs'}

_TEST = re.compile(r"^((?:@.*\n)*)def (test_\w+)\(\):", re.M)

def unflagged_tests(text: str) -> list[str]:
    "The tests of a generated file that run by default (no `slow`/`cuda`/`download` flag), in notebook order"
    flagged = re.compile(r"@_nb\.check\(\d+, '[^']*', |@pytest\.mark\.")
    return [name for decorators,name in _TEST.findall(text) if not flagged.search(decorators)]

def picks(names: list[str]) -> list[str]:
    "One test from the middle and the last (one test if there is only one)"
    return sorted({names[len(names) // 2], names[-1]}, key=names.index) if names else []

def test_unflagged_tests_and_picks():
    text = ("@_nb.check(1, 'a')\ndef test_x_cell_1():\n    pass\n\n@_nb.check(2, 'b', 'slow')\ndef test_x_cell_2():\n"
            "    pass\n\n@_nb.setup(3, 'c')\ndef _cell_3():\n    pass\n\n@_nb.check(4, 'd')\ndef test_x_cell_4():\n"
            "    pass\n\n@pytest.mark.cuda\ndef test_x_runs_to_end():\n    _nb.run()\n")
    assert unflagged_tests(text) == ['test_x_cell_1', 'test_x_cell_4']
    assert picks(['a', 'b', 'c', 'd', 'e']) == ['c', 'e'] and picks(['a']) == ['a'] and picks([]) == []

def _cases():
    for path in sorted(TESTS.glob('test_nb_*.py')):
        nb = path.stem[len('test_nb_'):]
        marks = [pytest.mark.slow] if nb in HEAVY else []
        for name in picks(unflagged_tests(path.read_text(encoding='utf-8'))):
            yield pytest.param(path.name, name, marks=marks, id=f'{nb}::{name}')

def test_heavy_names_are_notebooks():
    stems = {p.stem[len('test_nb_'):] for p in TESTS.glob('test_nb_*.py')}
    assert HEAVY <= stems, HEAVY - stems

@pytest.mark.parametrize('file,name', list(_cases()))
def test_runs_alone(file, name):
    env = {**os.environ, 'PYTEST_ADDOPTS': ''}
    env.pop('NLPBOOK_BOOK_BUILT', None)   # run the test, even after a book build that ran its cells
    r = subprocess.run([sys.executable, '-m', 'pytest', f'{TESTS/file}::{name}', '-q', '-p', 'no:cacheprovider',
                        '-p', 'no:randomly'], capture_output=True, text=True, cwd=TESTS.parent, env=env)
    assert r.returncode == 0 and re.search(r'^1 passed', r.stdout, re.M), r.stdout[-3000:] + r.stderr[-2000:]
