"""Chapter 6 benchmark: the book's own pipeline (fastai's TextDataLoaders, a model that reads the padding), here.

Run from the project root (fastai must be installed):

    NLPBOOK_MIRROR=/work/shared/data .venv/bin/python benchmarks/ch06_book_code.py --backbones gru --seed 0

The book trained each classifier with `TextDataLoaders.from_folder(path, valid='test', bs=256)` and
`Learner(dls, TextClassifier(len(dls.vocab[0]), 100), loss_func=CrossEntropyLossFlat(), metrics=accuracy).fit(10)`.
This script does the same on the mirrored IMDb: `TextDataLoaders.from_df` with the test split as the validation set
(fastai's tokenizer and rules, its vocabulary cut, sortish batches, padding in chunks of 72 before each review and the
rest after it), and `nlpbook.rnns.TextClassifier(..., packed=False)`, which is the book's model: it takes the final
state after the whole padded row, pads included. `benchmarks/ch06_rnns.py` runs our pipeline, which stops each
review at its end; the two on the same seeds say whether the book's printed number is typical of its own code.
fastai counts the vocabulary over every row it tokenizes, the test reviews included; `--train-vocab` counts the
training reviews only, as ours does. Results go to benchmarks/results/ch06_book_code[_train_vocab]_seed<SEED>.json
(or --json), in ch06_rnns.py's format.
"""
from __future__ import annotations
import argparse, datetime, sys, time

from common import machine_line, write_json  # benchmarks/common.py
from ch06_rnns import BOOK, LABELS, add_common_args, epoch_history   # benchmarks/ch06_rnns.py


def train_only_vocab(texts) -> list[str]:
    "fastai's vocabulary (min_freq 3, at most 60,000 tokens) counted over `texts` alone, with fastai's default tokenizer."
    from collections import Counter
    from fastai.text.core import tokenize_texts
    from fastai.text.data import make_vocab
    return make_vocab(Counter(tok for toks in tokenize_texts(list(texts)) for tok in toks))


def book_dataloaders(train_df, test_df, bs: int = 256, seed: int = 0, train_vocab: bool = False):
    "The book's `TextDataLoaders`: fastai's tokenizer, `test_df` as the validation set; `train_vocab`: count words in `train_df` only."
    import pandas as pd
    from fastai.text.data import TextDataLoaders
    from fastai.torch_core import set_seed
    vocab = train_only_vocab(train_df.text) if train_vocab else None   # None: fastai counts the words of every row, test included
    set_seed(seed)   # the loaders draw their shuffling seed when they are built
    df = pd.concat([train_df.assign(is_valid=False), test_df.assign(is_valid=True)], ignore_index=True)
    df["label"] = df.label.map({0: "neg", 1: "pos"})   # the book's folder names
    return TextDataLoaders.from_df(df, text_col="text", label_col="label", valid_col="is_valid", bs=bs, num_workers=0,
                                   text_vocab=vocab)


def main(argv=None):
    p = add_common_args(argparse.ArgumentParser(description=__doc__.splitlines()[0]), "comma-separated: rnn, birnn, lstm, gru")
    p.add_argument("--train-vocab", action="store_true",
                   help="count the vocabulary over the training reviews only (the book's TextDataLoaders counts the test reviews too)")
    a = p.parse_args(argv)
    a.json = a.json or f"benchmarks/results/ch06_book_code{'_train_vocab' if a.train_vocab else ''}_seed{a.seed}.json"
    backbones = a.backbones.split(",")
    bad = [b for b in backbones if b not in BOOK]
    if bad: p.error(f"unknown backbone(s) {bad}; choose from {list(BOOK)}")

    import torch, fastai
    from fastai.learner import Learner
    from fastai.losses import CrossEntropyLossFlat
    from fastai.metrics import accuracy
    from nlpbook.data import load_imdb
    from nlpbook.rnns import TextClassifier
    if a.threads: torch.set_num_threads(a.threads)
    train_df, test_df = load_imdb("train", n=a.n_train, seed=a.seed), load_imdb("test", n=a.n_test, seed=a.seed)
    start = time.perf_counter()
    dls = book_dataloaders(train_df, test_df, a.bs, a.seed, a.train_vocab)
    print(f"fastai's TextDataLoaders: {time.perf_counter() - start:.0f} s, vocabulary {len(dls.vocab[0]):,}", file=sys.stderr, flush=True)

    versions = f"torch {torch.__version__} ({torch.get_num_threads()} threads), fastai {fastai.__version__}"
    cmd = ("python benchmarks/ch06_book_code.py " + " ".join(sys.argv[1:] if argv is None else argv)).strip()
    rows = []
    for backbone in backbones:
        torch.manual_seed(a.seed)
        learn = Learner(dls, TextClassifier(len(dls.vocab[0]), 100, backbone, packed=False),
                        loss_func=CrossEntropyLossFlat(), metrics=accuracy)
        start = time.perf_counter()
        learn.fit(a.epochs)
        seconds = time.perf_counter() - start
        history = epoch_history(learn)
        rows.append(dict(model=LABELS[backbone] + ", the book's pipeline", backbone=backbone, packed=False,
                         accuracy=history[-1]["accuracy"], best_epoch_accuracy=max(h["accuracy"] for h in history),
                         seconds=seconds, book=BOOK[backbone], history=history))
        print(f"{backbone}: {history[-1]['accuracy']:.2%} in {seconds:.0f} s", file=sys.stderr, flush=True)
        # after every backbone: an interrupted run keeps what it finished
        write_json(a.json, dict(date=str(datetime.date.today()), machine=machine_line(versions), command=cmd, pipeline="book", train_vocab=a.train_vocab,
                                n_train=len(train_df), n_test=len(test_df), hidden=100, bs=a.bs, epochs=a.epochs, lr=1e-3,
                                seed=a.seed, vocab=len(dls.vocab[0]), complete=len(rows) == len(backbones), results=rows))

    print("### Chapter 6: the book's pipeline (fastai TextDataLoaders, the model reads the padding)\n")
    print(machine_line(versions))
    print(f"- date: {datetime.date.today()}; command: `{cmd}`")
    print(f"- {len(train_df):,} train / {len(test_df):,} test reviews, vocabulary {len(dls.vocab[0]):,}; hidden 100, batch {a.bs}, "
          f"{a.epochs} epochs, `learn.fit({a.epochs})`, seed {a.seed}"
          f"{'; vocabulary counted over the training reviews only' if a.train_vocab else '; vocabulary counted over train and test, as fastai does'}\n")
    print("| model | test accuracy (last epoch) | best epoch | seconds | book |")
    print("|---|---|---|---|---|")
    for r in rows: print(f"| {r['model']} | {r['accuracy']:.1%} | {r['best_epoch_accuracy']:.1%} | {r['seconds']:.0f} | {r['book']} |")


if __name__ == "__main__":
    main()
