"""Chapter 5 benchmark: word2vec from scratch in PyTorch (`nlpbook.word2vec`) vs gensim `Word2Vec`, side by side.

Run from the project root (the dataset comes from the cache, $NLPBOOK_MIRROR, or its URL):

    NLPBOOK_MIRROR=/work/shared/data .venv/bin/python benchmarks/ch05_word2vec.py            # book scale
    NLPBOOK_MIRROR=/work/shared/data .venv/bin/python benchmarks/ch05_word2vec.py --mb 30 --epochs 3

Corpus: IMDb reviews, the 50,000 unlabelled then the 25,000 training ones (`--mb` keeps the leading megabytes;
default: all, ~100 MB, ~17.6M word tokens), tokenized once by `nlpbook.word2vec.tokenize` and given to both models.
Both train skip-gram with negative sampling (and, with --cbow, CBOW) with the same dimensions, window, noise
words, min_count, sample, learning-rate schedule and epochs; ours runs on 1 PyTorch thread, gensim on 2 workers.
Both are scored by the same `evaluate_embeddings`: analogy accuracy on questions-words.txt (overall, coverage, top sections)
and WordSim-353 Spearman. Prints a markdown table for BENCHMARKS.md.
"""
from __future__ import annotations
import argparse, contextlib, datetime, os, sys

from common import machine_line  # benchmarks/common.py


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--mb", type=float, default=None, help="megabytes of review text (default: all ~100 MB)")
    p.add_argument("--dim", type=int, default=100)
    p.add_argument("--window", type=int, default=5)
    p.add_argument("--epochs", type=int, default=5)
    p.add_argument("--negative", type=int, default=5)
    p.add_argument("--min-count", type=int, default=5)
    p.add_argument("--sample", type=float, default=1e-3)
    p.add_argument("--cbow", action="store_true", help="also compare CBOW")
    a = p.parse_args(argv)

    import gensim, numpy as np, torch
    from nlpbook.word2vec import Word2VecConfig, imdb_corpus, train_word2vec, train_gensim, evaluate_embeddings, word_vocab

    docs = imdb_corpus(a.mb)
    n_tokens = sum(map(len, docs))
    vocab, _ = word_vocab(docs, a.min_count)
    settings = Word2VecConfig(dim=a.dim, window=a.window, epochs=a.epochs, negative=a.negative, min_count=a.min_count, sample=a.sample)
    print(f"corpus: {len(docs):,} reviews, {n_tokens:,} tokens, vocabulary {len(vocab):,}", file=sys.stderr)

    runs = [("ours skip-gram (PyTorch, 1 thread)", lambda: train_word2vec(docs, settings)),
            ("gensim skip-gram (2 workers)", lambda: train_gensim(docs, settings))]
    if a.cbow:
        runs += [("ours CBOW (PyTorch, 1 thread)", lambda: train_word2vec(docs, settings, cbow=True)),
                 ("gensim CBOW (2 workers)", lambda: train_gensim(docs, settings, cbow=True))]
    rows = []
    for name, train in runs:
        with contextlib.redirect_stdout(sys.stderr): r = train()  # progress bars to stderr, the table to stdout
        s = evaluate_embeddings(r.kv)
        top = sorted(((acc, sec, n) for sec, (acc, n) in s["sections"].items() if n >= 50), reverse=True)[:3]
        rows.append((name, r.seconds, s, top))
        print(f"{name}: {r.seconds:.0f} s, analogy {100 * s['analogy']:.2f}%", file=sys.stderr)

    print(f"### word2vec: ours vs gensim ({datetime.date.today()})\n")
    print(machine_line(f"torch {torch.__version__}, gensim {gensim.__version__}, numpy {np.__version__}"))
    print(f"- command: `{' '.join([os.path.basename(sys.executable), 'benchmarks/ch05_word2vec.py'] + (argv or sys.argv[1:]))}`")
    print(f"- corpus: IMDb unsup+train reviews, {len(docs):,} reviews, {n_tokens:,} tokens; vocabulary {len(vocab):,} "
          f"(min_count {a.min_count}); dim {a.dim}, window {a.window}, negative {a.negative}, sample {a.sample}, epochs {a.epochs}\n")
    print("| model | train s | analogy acc | covered | top sections (acc, n) | wordsim353 Spearman | ws353 OOV |")
    print("|---|---|---|---|---|---|---|")
    for name, sec, s, top in rows:
        tops = "; ".join(f"{t} {100 * acc:.0f}% ({n})" for acc, t, n in top)
        print(f"| {name} | {sec:.0f} | {100 * s['analogy']:.2f}% | {s['analogy_covered']}/{s['analogy_questions']} | "
              f"{tops} | {s['wordsim353']:.3f} | {100 * s['wordsim353_oov']:.1f}% |")
    base = rows[1][1]
    print(f"\nours/gensim train time (skip-gram): {rows[0][1] / base:.1f}x; "
          f"analogy gap: {100 * (rows[0][2]['analogy'] - rows[1][2]['analogy']):+.2f} points (bar: >= -10)")


if __name__ == "__main__":
    main()
