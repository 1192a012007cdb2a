"""`benchmarks/ch06_rnns.py`: the `--valid` split it scores on is balanced, disjoint from training, and fixed; bad flags stop it before any data loads."""
import sys
from pathlib import Path

import pandas as pd
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
from ch06_rnns import holdout, main  # noqa: E402


def reviews(n_per_label=50):
    "A stand-in for `load_imdb`'s frame: unique files, the labels in file order (as the CSVs are)."
    return pd.DataFrame(dict(text=[f"review {i}" for i in range(2 * n_per_label)], file=[f"{i}.txt" for i in range(2 * n_per_label)],
                             label=[0] * n_per_label + [1] * n_per_label))


def test_holdout_is_balanced_and_disjoint():
    train, valid = holdout(reviews(), 21)
    assert (len(train), len(valid)) == (79, 21)
    assert valid.label.value_counts().to_dict() == {0: 11, 1: 10}   # the odd one goes to the first label
    assert not set(train.file) & set(valid.file)
    assert set(train.file) | set(valid.file) == set(reviews().file)


def test_holdout_is_the_same_split_every_time_and_moves_with_its_seed():
    first, again, other = (holdout(reviews(), 20, seed=s)[1] for s in (0, 0, 1))
    assert first.file.tolist() == again.file.tolist()
    assert first.file.tolist() != other.file.tolist()


@pytest.mark.parametrize("n_valid", [0, 100, -3])
def test_holdout_rejects_sizes_that_leave_nothing(n_valid):
    with pytest.raises(ValueError, match="n_valid must be between 1 and 99"):
        holdout(reviews(), n_valid)


@pytest.mark.parametrize("argv, message", [(["--clip", "0"], "--clip must be a positive gradient norm"),
                                           (["--clip", "-1"], "--clip must be a positive gradient norm"),
                                           (["--valid", "0"], "--valid must be a positive number of reviews")])
def test_bad_flags_are_one_clear_error(argv, message, capsys, monkeypatch):
    monkeypatch.setattr("nlpbook.data.load_imdb", lambda *a, **k: pytest.fail("data loaded before the flags were checked"))
    with pytest.raises(SystemExit) as e: main(argv)
    assert e.value.code == 2 and message in capsys.readouterr().err
