"""Chapter 6: how the GRU classifier's gradient norm grows through training (why `--clip 1.0` was tried).

Trains the book's `TextClassifier` with a GRU on training reviews only (never the test split), records the
whole model's gradient norm before every optimizer step, and prints its median, 90th percentile, maximum and the
share of steps above 1.0 for each epoch:

    NLPBOOK_MIRROR=/work/shared/data .venv/bin/python benchmarks/ch06_grad_norms.py      # ~2 min on 2 CPU cores

The first `--n-train` of `--n` balanced training reviews (`load_imdb` shuffles them) train the model, the rest
are its validation set.
"""
from __future__ import annotations
import argparse, sys


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--n", type=int, default=6000, help="balanced training reviews drawn (the train split only)")
    p.add_argument("--n-train", type=int, default=5000, help="of those, how many train; the rest validate")
    p.add_argument("--epochs", type=int, default=6)
    p.add_argument("--seed", type=int, default=0)
    a = p.parse_args(argv)
    if not 0 < a.n_train < a.n: p.error(f"--n-train must be between 1 and --n - 1 ({a.n - 1}), got {a.n_train}")

    import numpy as np, torch
    from fastai.callback.core import Callback
    from nlpbook.data import load_imdb
    from nlpbook.rnn_classifier import review_vocab, ReviewDataset, tokenize_review
    from nlpbook.rnns import imdb_loaders, TextClassifier, classifier_learner

    class GradNorms(Callback):
        "The total gradient norm before each step (clipping to infinity measures without changing anything)."
        def before_fit(self): self.norms = []
        def before_step(self): self.norms.append(float(torch.nn.utils.clip_grad_norm_(self.learn.model.parameters(), float("inf"))))

    df = load_imdb("train", n=a.n, seed=a.seed)
    vocab = review_vocab(df.text, min_freq=2, tokenize=tokenize_review)
    train, valid = (ReviewDataset(d, vocab, None, tokenize=tokenize_review) for d in (df.iloc[:a.n_train], df.iloc[a.n_train:]))
    torch.manual_seed(a.seed)
    norms = GradNorms()
    learn = classifier_learner(TextClassifier(len(vocab), 100, "gru"), imdb_loaders(train, valid, vocab["<pad>"], 256, seed=a.seed), cbs=[norms])
    with learn.no_bar(), learn.no_logging(): learn.fit(a.epochs)
    print(f"GRU classifier, {a.n_train:,} training reviews, batch 256, seed {a.seed}: gradient norm per step, by epoch\n")
    print("| epoch | median | 90th percentile | max | steps above 1.0 |")
    print("|---|---|---|---|---|")
    for epoch, chunk in enumerate(np.array_split(np.array(norms.norms), a.epochs), 1):
        print(f"| {epoch} | {np.median(chunk):.2f} | {np.percentile(chunk, 90):.2f} | {chunk.max():.2f} | {(chunk > 1).mean():.0%} |")


if __name__ == "__main__":
    sys.exit(main())
