"""Chapter 9 benchmark: torch vs onnxruntime vs onnxruntime int8 on the CPU, for Chapter 5's IMDb LSTM and Chapter 3's MiniLM NER model.

Run from the project root (IMDb and GloVe from the cache, $NLPBOOK_MIRROR, or their URLs):

    NLPBOOK_MIRROR=/work/shared/data .venv/bin/python benchmarks/ch9_onnx.py [--threads 2] [--repeats 20]

It trains the LSTM as nbs/09_edge.ipynb does (a small balanced IMDb sample), takes Chapter 3's MiniLM NER model
from the cache (run nbs/03d_transformer_ner.ipynb first) or fine-tunes a small one, exports both with
`nlpbook.edge.export_onnx`, quantises them with `quantize_int8`, checks the logits against torch, and times batches
of 1 and 32 with `latency_table` (in-process timing: median of `--repeats` calls after a warm-up call; the runtimes
are measured one after the other for each batch size, on the same `--threads`). Accuracy (IMDb test sample) and
span F (the 100 held-out descriptions) come from the same models. Prints a markdown table for BENCHMARKS.md and
writes benchmarks/results/ch9_onnx.json.
"""
from __future__ import annotations
import argparse, datetime, os, sys, tempfile
from pathlib import Path

from common import machine_line, write_json  # benchmarks/common.py


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--repeats", type=int, default=20)
    p.add_argument("--n-train", type=int, default=600)
    p.add_argument("--n-test", type=int, default=300)
    a = p.parse_args(argv)
    import nlpbook  # first: it hides the torchvision that cannot load beside the CPU torch (nbs/00a_models)
    import torch, transformers, onnxruntime
    from torch import nn
    from nlpbook.data import load_imdb
    from nlpbook.embeddings import load_glove
    from nlpbook.rnn_classifier import RNNClassifier, review_vocab, glove_embedding, ReviewDataset, review_loader, fit, evaluate_classifier
    from nlpbook.custom_ner import load_gold, span_scores, task_spans
    from nlpbook.transformer_ner import TokenLogits, fit_transformer_ner, load_ner_model, ner_model_dir, predict_spans
    from nlpbook.edge import LastStateClassifier, OnnxModule, OnnxTokenClassifier, export_onnx, quantize_int8, latency_table, size_mb
    transformers.logging.set_verbosity_error()
    os.environ.setdefault("IN_TEST", "1")   # no progress bars
    torch.set_num_threads(a.threads)
    work = Path(tempfile.mkdtemp(prefix="ch9_onnx_"))
    torch.manual_seed(0)
    train_df, test_df = load_imdb("train", n=a.n_train), load_imdb("test", n=a.n_test)
    vocab = review_vocab(train_df.text)
    train_dl = review_loader(ReviewDataset(train_df, vocab, max_len=100), vocab, bs=32)
    test_dl = review_loader(ReviewDataset(test_df, vocab, max_len=100), vocab, bs=100, shuffle=False)
    rnn = RNNClassifier(glove_embedding(vocab, load_glove()), hidden_size=64, cell="lstm")
    fit(rnn, train_dl, test_dl, epochs=3, lr=3e-3); rnn.eval()
    ids, lengths, _ = next(iter(test_dl))
    rp = export_onnx(LastStateClassifier(rnn), (ids[:2], lengths[:2]), work / "lstm.onnx", ["ids", "lengths"],
                     dynamic={"ids": ["batch", "seq"], "lengths": ["batch"], "logits": ["batch"]})
    rq = quantize_int8(rp, work / "lstm.int8.onnx")
    rnn_models = {"torch": rnn, "onnxruntime": OnnxModule(rp, a.threads), "onnxruntime int8": OnnxModule(rq, a.threads)}
    rnn_q = {k: evaluate_classifier(m, test_dl)[1] for k, m in rnn_models.items()}
    rnn_b = {bs: next(iter(review_loader(ReviewDataset(test_df.head(bs), vocab, max_len=100), vocab, bs=bs, shuffle=False)))[:2] for bs in (1, 32)}
    rnn_t = latency_table(rnn_models, rnn_b, a.repeats)

    gold_train, gold_eval = load_gold("train"), load_gold("eval")
    if (ner_model_dir() / "config.json").is_file(): ner, tok = load_ner_model(ner_model_dir()); source = "03d's saved model"
    else: ner, tok, _ = fit_transformer_ner(gold_train, epochs=3, lr=1e-3, n_trainable=1); ner.eval(); source = "fine-tuned (top layer, 3 epochs)"
    e = tok(["Apple (AAPL) rose.", "IBM fell."], padding=True, return_tensors="pt")
    npth = export_onnx(TokenLogits(ner), (e["input_ids"], e["attention_mask"]), work / "ner.onnx", ["input_ids", "attention_mask"],
                       dynamic={"input_ids": ["batch", "seq"], "attention_mask": ["batch", "seq"], "logits": ["batch", "seq"]})
    nq = quantize_int8(npth, work / "ner.int8.onnx")
    ner_models = {"torch": ner, "onnxruntime": OnnxTokenClassifier(npth, ner.config, a.threads), "onnxruntime int8": OnnxTokenClassifier(nq, ner.config, a.threads)}
    texts = [t["text"] for t in gold_eval]; gold = [task_spans(t) for t in gold_eval]
    ner_q = {k: span_scores(gold, predict_spans(m, tok, texts)).loc["ALL", "f"] for k, m in ner_models.items()}
    def enc(bs): x = tok(texts[:bs], padding=True, return_tensors="pt"); return x["input_ids"], x["attention_mask"]
    ner_t = latency_table({"torch": TokenLogits(ner), **{k: (lambda m: lambda i, am: m(i, am).logits)(m) for k, m in list(ner_models.items())[1:]}},
                          {bs: enc(bs) for bs in (1, 32)}, a.repeats)
    sizes = {"IMDb LSTM": [size_mb(rp), size_mb(rp), size_mb(rq)], "MiniLM NER": [size_mb(npth), size_mb(npth), size_mb(nq)]}
    rows = []
    print(f"### Chapter 9: ONNX on the CPU ({datetime.date.today()})\n")
    print(machine_line(f"torch {torch.__version__}, onnxruntime {onnxruntime.__version__}, {a.threads} threads each"))
    print(f"- command: `NLPBOOK_MIRROR=... python benchmarks/ch9_onnx.py --threads {a.threads} --repeats {a.repeats}`; MiniLM NER: {source}\n")
    print("| model | runtime | ms, batch 1 | ms, batch 32 | items/s, batch 32 | speed-up, batch 32 | quality | MB |")
    print("|---|---|---:|---:|---:|---:|---:|---:|")
    for name, t, q, metric in [("IMDb LSTM", rnn_t, rnn_q, "accuracy"), ("MiniLM NER", ner_t, ner_q, "span F")]:
        for (rt, score), mb in zip(q.items(), sizes[name]):
            r = t[t.runtime == rt].set_index("batch")
            row = dict(model=name, runtime=rt, ms1=r.ms[1], ms32=r.ms[32], ips32=r.items_per_s[32], speedup32=r.speedup[32], metric=metric, score=score, mb=mb)
            rows.append(row)
            print(f"| {name} | {rt} | {row['ms1']:.2f} | {row['ms32']:.1f} | {row['ips32']:,.0f} | {row['speedup32']:.2f}x | {metric} {score:.3f} | {mb:.1f} |")
    write_json(Path(__file__).parent / "results" / "ch9_onnx.json", dict(date=str(datetime.date.today()), args=vars(a), rows=rows, ner_source=source))


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).parent))
    main()
