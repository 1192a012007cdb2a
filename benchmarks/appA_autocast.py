"""Appendix A benchmark: bf16 autocast vs float32 on the CPU, Chapter 5's IMDb LSTM trained and evaluated both ways.

Run from the project root (IMDb and GloVe from the cache, $NLPBOOK_MIRROR, or their URLs):

    NLPBOOK_MIRROR=/work/shared/data .venv/bin/python benchmarks/appA_autocast.py [--threads 2] [--reps 3]

Trains the same seeded `RNNClassifier` (LSTM 64 over GloVe, a balanced IMDb sample) with Chapter 5's `fit`, once in
float32 and once with `nlpbook.scaling.Autocast('bf16')` (training and validation under autocast), `--reps` times
each, interleaved; reports the median seconds per epoch, the final validation accuracy, and the median time of one
pass over the test sample in inference mode (`median_seconds`, 5 calls). Prints a markdown table for BENCHMARKS.md
and writes benchmarks/results/appA_autocast.json.
"""
from __future__ import annotations
import argparse, datetime, os, statistics, sys
from pathlib import Path

from common import machine_line, write_json  # benchmarks/common.py


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--reps", type=int, default=3)
    p.add_argument("--n-train", type=int, default=600)
    p.add_argument("--n-test", type=int, default=300)
    a = p.parse_args(argv)
    import nlpbook  # first: it hides the torchvision that cannot load beside the CPU torch (nbs/00a_models)
    import torch
    from nlpbook.data import load_imdb
    from nlpbook.embeddings import load_glove
    from nlpbook.rnn_classifier import RNNClassifier, review_vocab, glove_embedding, ReviewDataset, review_loader, fit, evaluate_classifier
    from nlpbook.scaling import Autocast
    from nlpbook.edge import median_seconds
    os.environ.setdefault("IN_TEST", "1")
    torch.set_num_threads(a.threads)
    train_df, test_df = load_imdb("train", n=a.n_train), load_imdb("test", n=a.n_test)
    vocab = review_vocab(train_df.text); emb = glove_embedding(vocab, load_glove())
    res = {"float32": [], "bf16 autocast": []}
    for rep in range(a.reps):
        for name in res:
            torch.manual_seed(0)
            tr = review_loader(ReviewDataset(train_df, vocab, max_len=100), vocab, bs=32)
            te = review_loader(ReviewDataset(test_df, vocab, max_len=100), vocab, bs=100, shuffle=False)
            model = RNNClassifier(emb, hidden_size=64, cell="lstm")
            hist, _ = fit(model, tr, te, epochs=3, lr=3e-3, cbs=[Autocast("bf16")] if name != "float32" else None)
            model.eval()
            with torch.autocast("cpu", dtype=torch.bfloat16, enabled=name != "float32"):
                infer = median_seconds(lambda: evaluate_classifier(model, te), repeats=5)
            res[name].append(dict(s_epoch=float(hist.seconds.median()), acc=float(hist.valid_acc.iloc[-1]), infer_s=infer))
    flags = open("/proc/cpuinfo").read().split() if os.path.exists("/proc/cpuinfo") else []
    print(f"### Appendix A: bf16 autocast on the CPU ({datetime.date.today()})\n")
    print(machine_line(f"torch {torch.__version__}, {a.threads} threads; avx512_bf16: {'avx512_bf16' in flags}, amx_bf16: {'amx_bf16' in flags}"))
    print(f"- command: `NLPBOOK_MIRROR=... python benchmarks/appA_autocast.py --threads {a.threads} --reps {a.reps}`; medians of {a.reps} interleaved runs\n")
    print("| precision | s/epoch (train) | speed-up | test pass (s) | speed-up | valid accuracy |")
    print("|---|---:|---:|---:|---:|---:|")
    med = {k: {m: statistics.median(r[m] for r in v) for m in v[0]} for k, v in res.items()}
    for k, m in med.items():
        print(f"| {k} | {m['s_epoch']:.2f} | {med['float32']['s_epoch'] / m['s_epoch']:.2f}x | {m['infer_s']:.3f} | "
              f"{med['float32']['infer_s'] / m['infer_s']:.2f}x | {m['acc']:.3f} |")
    write_json(Path(__file__).parent / "results" / "appA_autocast.json", dict(date=str(datetime.date.today()), args=vars(a), runs=res))


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).parent))
    main()
