"""Issue 23 ("One training loop"): the figures of the five from-scratch trainers at their notebooks' default scale.

Run from the project root, once on the code before a change and once after, on the same machine:

    NLPBOOK_MIRROR=/work/shared/data HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 nice -n 5 .venv/bin/python \
        benchmarks/one_loop.py LOOP [--seeds 0,1,2] [--json benchmarks/results/one_loop_LOOP.json]

LOOP is one of:

- `05b`: Chapter 5's `fit` (nbs/05b_rnn_classifier.ipynb): the book's vanilla RNN (2 epochs, lr 1e-4) and our biLSTM
  (4 epochs, lr 2e-3) on 2,000 / 1,000 IMDb reviews cut to 200 tokens; test accuracy, per-epoch history.
- `05b1c`: the same biLSTM with `fit(..., one_cycle=True)` (after the change only: the old loop had no one-cycle).
- `06s2s`: Chapter 6's `train_seq2seq`: the GRU date translator, 20,000 pairs, 4 epochs; exact match on 1,000 unseen dates.
- `06clf`: Chapter 6's `train_rnn_classifier` at CPU scale (4,000 / 2,000 reviews of <= 120 words, 3 epochs, lr 3e-3).
- `03d`: Chapter 3's `train_ner` through `fit_transformer_ner`: MiniLM top 3 layers, 8 epochs; span F on the 100 eval descriptions.
- `08`: Chapter 8's `train_mlm_head`: the BERT MLM head on frozen MiniLM, 400 / 100 WikiText-2 rows; top-1 / top-5.
- `07a`: Chapter 7's `train_char_lm`: the character GPT, 400 steps of 16 x 128, causal and adaptive span (λ 2e-3); test bpc.

Each replays the notebook's cells (same data, seeds and call order), once per seed in `--seeds` (the notebooks use 0),
prints one markdown row per run and writes every number to the JSON file. Training prints nothing on stdout:
progress bars are switched off (IN_TEST=1, as under the tests and the docs build).
"""
from __future__ import annotations
import argparse, contextlib, datetime, io, json, os, sys, time

from common import machine_line, write_json  # benchmarks/common.py


def quiet():
    "Send the old loops' fastprogress output (stdout) to a buffer: stdout is the table."
    return contextlib.redirect_stdout(io.StringIO())


def run_05b(seed: int) -> dict:
    import numpy as np, torch
    from nlpbook.data import load_imdb
    from nlpbook.embeddings import load_glove
    from nlpbook.rnn_classifier import (review_vocab, glove_embedding, ReviewDataset, review_loader, RNNClassifier, fit,
                                        accuracy, predict_sentiment)
    torch.manual_seed(seed)
    train_df, test_df = load_imdb('train', n=2000), load_imdb('test', n=1000)
    vocab, glove = review_vocab(train_df.text), load_glove()
    train_ds, test_ds = ReviewDataset(train_df, vocab, 200), ReviewDataset(test_df, vocab, 200)
    train_dl = review_loader(train_ds, vocab, bs=64, seed=seed)
    test_dl = review_loader(test_ds, vocab, bs=256, shuffle=False)
    next(iter(train_dl))                         # the notebook looks at one batch first (cell 6292becd)
    torch.manual_seed(seed)
    book = RNNClassifier(glove_embedding(vocab, glove), hidden_size=256, num_layers=1, cell="rnn")
    t0 = time.perf_counter()
    with quiet(): book_hist, _ = fit(book, train_dl, test_dl, epochs=2, lr=1e-4)
    book_s = time.perf_counter() - t0
    torch.manual_seed(seed)
    model = RNNClassifier(glove_embedding(vocab, glove), hidden_size=64, cell="lstm", bidirectional=True, dropout=0.3, pool="concat")
    t0 = time.perf_counter()
    with quiet(): hist, losses = fit(model, train_dl, test_dl, epochs=4, lr=2e-3)
    secs = time.perf_counter() - t0
    review = ("I like that Far From Home is trying something new and that its\nhumor  feels more real than the ironic cracks "
              "in most superhero movies.\nI just wish its good pieces all came together more satisfyingly.")
    return dict(book_valid_acc=book_hist.valid_acc.tolist(), book_seconds=book_s,
                history=hist.drop(columns="seconds").to_dict("list"), test_acc=accuracy(model, test_dl),
                p_review=predict_sentiment(model, vocab, review), last20_loss=float(np.mean(losses[-20:])), seconds=secs)


def row_05b(seed, r):
    h = r["history"]
    return (f"| 05b `fit` | {seed} | book's RNN {r['book_valid_acc'][-1]:.1%}; biLSTM test accuracy **{r['test_acc']:.1%}** "
            f"(epochs {', '.join(f'{a:.1%}' for a in h['valid_acc'])}); valid loss {h['valid_loss'][-1]:.4f}; "
            f"Spider-Man review {r['p_review']:.3f} | {r['book_seconds'] + r['seconds']:.0f} |")


def run_05b1c(seed: int) -> dict:
    "Chapter 5's biLSTM as in `05b`, but with `fit(..., one_cycle=True)`: fastai's one-cycle schedule, an option the old loop lacked."
    import torch
    from nlpbook.data import load_imdb
    from nlpbook.embeddings import load_glove
    from nlpbook.rnn_classifier import review_vocab, glove_embedding, ReviewDataset, review_loader, RNNClassifier, fit, accuracy
    torch.manual_seed(seed)
    train_df, test_df = load_imdb('train', n=2000), load_imdb('test', n=1000)
    vocab, glove = review_vocab(train_df.text), load_glove()
    train_dl = review_loader(ReviewDataset(train_df, vocab, 200), vocab, bs=64, seed=seed)
    test_dl = review_loader(ReviewDataset(test_df, vocab, 200), vocab, bs=256, shuffle=False)
    train_dl.batch_sampler.set_epoch(3)   # the notebook's biLSTM gets the sampler's epochs 3-6 (after a peek and 2 epochs)
    torch.manual_seed(seed)
    model = RNNClassifier(glove_embedding(vocab, glove), hidden_size=64, cell="lstm", bidirectional=True, dropout=0.3, pool="concat")
    t0 = time.perf_counter()
    hist, _ = fit(model, train_dl, test_dl, epochs=4, lr=2e-3, one_cycle=True)
    return dict(history=hist.drop(columns="seconds").to_dict("list"), test_acc=accuracy(model, test_dl), seconds=time.perf_counter() - t0)


def row_05b1c(seed, r):
    h = r["history"]
    return (f"| 05b `fit(one_cycle=True)` | {seed} | biLSTM test accuracy **{r['test_acc']:.1%}** "
            f"(epochs {', '.join(f'{a:.1%}' for a in h['valid_acc'])}); valid loss {h['valid_loss'][-1]:.4f} | {r['seconds']:.0f} |")


def run_06s2s(seed: int) -> dict:
    import numpy as np, torch
    from nlpbook.rnns import date_pairs, char_vocab, Seq2Seq, train_seq2seq, exact_match, greedy_translate
    train_pairs = date_pairs(20_000, seed=0)
    seen = {a for a, _ in train_pairs}
    test_pairs = [p for p in date_pairs(1_200, seed=1) if p[0] not in seen][:1_000]
    vocab = char_vocab(a + b for a, b in train_pairs)
    torch.manual_seed(seed)
    model = Seq2Seq(len(vocab))
    t0 = time.perf_counter()
    with quiet(): losses = train_seq2seq(model, train_pairs, vocab, epochs=4, seed=seed)
    secs = time.perf_counter() - t0
    return dict(exact_match=exact_match(model, test_pairs, vocab), last20_loss=float(np.mean(losses[-20:])), steps=len(losses),
                example=greedy_translate(model, ["25 Nov 2026"], vocab)[0], seconds=secs)


def row_06s2s(seed, r):
    return (f"| 06 `train_seq2seq` | {seed} | exact match **{r['exact_match']:.1%}**; mean loss of the last 20 steps "
            f"{r['last20_loss']:.4f} | {r['seconds']:.0f} |")


def run_06clf(seed: int) -> dict:
    import torch
    from nlpbook.data import load_imdb
    from nlpbook.rnn_classifier import review_vocab, ReviewDataset
    from nlpbook.rnns import imdb_loaders, train_rnn_classifier
    train_df = load_imdb("train", n=4_000, max_words=120)
    test_df = load_imdb("test", n=2_000, max_words=120)
    vocab = review_vocab(train_df.text)
    train_ds, test_ds = ReviewDataset(train_df, vocab), ReviewDataset(test_df, vocab)
    loaders = imdb_loaders(train_ds, test_ds, vocab["<pad>"], 32)
    out = {}
    for backbone in ("rnn", "birnn", "lstm", "gru", "scratch_rnn"):
        with quiet():
            learn, acc, secs = train_rnn_classifier(backbone, len(vocab), loaders, 100, 3, 3e-3, seed=seed)
        out[backbone] = dict(accuracy=acc, seconds=secs, valid_loss=float(learn.recorder.values[-1][1]))
    return out


def row_06clf(seed, r):
    return (f"| 06 `train_rnn_classifier` | {seed} | " + ", ".join(f"{b} {v['accuracy']:.1%}" for b, v in r.items())
            + f" | {sum(v['seconds'] for v in r.values()):.0f} |")


def run_03d(seed: int) -> dict:
    import nlpbook  # first: hides a mismatched torchvision before transformers looks for it
    import torch, transformers
    from nlpbook.custom_ner import load_gold, span_scores, task_spans, NER_LABELS
    from nlpbook.transformer_ner import fit_transformer_ner, predict_spans
    transformers.logging.set_verbosity_error()
    torch.set_num_threads(min(2, torch.get_num_threads()))   # as the notebook
    train, ev = load_gold("train"), load_gold("eval")
    t0 = time.perf_counter()
    with quiet(): model, tok, hist = fit_transformer_ner(train, epochs=8, lr=3e-4, bs=8, n_trainable=3, seed=seed)
    secs = time.perf_counter() - t0
    sc = span_scores([task_spans(t) for t in ev], predict_spans(model, tok, [t["text"] for t in ev]), NER_LABELS) * 100
    return dict(f={l: float(sc.loc[l, "f"]) for l in [*NER_LABELS, "ALL"]}, p=float(sc.loc["ALL", "p"]),
                r=float(sc.loc["ALL", "r"]), loss=hist.loss.tolist(), seconds=secs)


def row_03d(seed, r):
    f = r["f"]
    return (f"| 03d `train_ner` | {seed} | F **{f['ALL']:.1f}** (ORG {f['ORG']:.1f}, PERSON {f['PERSON']:.1f}, GPE {f['GPE']:.1f}, "
            f"TICKER {f['TICKER']:.1f}); last epoch's loss {r['loss'][-1]:.4f} | {r['seconds']:.0f} |")


def run_08(seed: int) -> dict:
    import nlpbook  # first: hides a mismatched torchvision before transformers looks for it
    import numpy as np, torch
    from nlpbook.models import load_minilm
    from nlpbook.bertology import (wikitext_paragraphs, pack_wordpieces, masked_hidden_states, MaskedLMHead,
                                   unigram_log_probs, train_mlm_head, topk_accuracy)
    tokenizer, minilm = load_minilm()
    train_rows = pack_wordpieces(tokenizer, wikitext_paragraphs('valid'))
    heldout_rows = pack_wordpieces(tokenizer, wikitext_paragraphs('test'))
    train_states, train_targets, _ = masked_hidden_states(minilm, train_rows[:400], tokenizer, seed=0)
    heldout_states, heldout_targets, was_mask = masked_hidden_states(minilm, heldout_rows[:100], tokenizer, seed=1)
    torch.manual_seed(seed)
    head = MaskedLMHead(minilm.embeddings.word_embeddings)
    with torch.no_grad(): head.bias.copy_(unigram_log_probs(train_targets, len(tokenizer)))
    t0 = time.perf_counter()
    with quiet(): losses = train_mlm_head(head, train_states, train_targets, epochs=1, seed=seed)
    secs = time.perf_counter() - t0
    with torch.no_grad(): logits = head.eval()(heldout_states)
    return dict(all=topk_accuracy(logits, heldout_targets), masked=topk_accuracy(logits[was_mask], heldout_targets[was_mask]),
                first20_loss=float(np.mean(losses[:20])), last20_loss=float(np.mean(losses[-20:])), steps=len(losses),
                n_heldout=len(heldout_targets), seconds=secs)


def row_08(seed, r):
    a, m = r["all"], r["masked"]
    return (f"| 08 `train_mlm_head` | {seed} | top-1 / top-5 **{a['top-1']:.3f} / {a['top-5']:.3f}** ([MASK] only "
            f"{m['top-1']:.3f} / {m['top-5']:.3f}); loss {r['first20_loss']:.2f} -> {r['last20_loss']:.2f} | {r['seconds']:.0f} |")


def run_07a(seed: int) -> dict:
    import numpy as np, torch
    from nlpbook.attention_variants import CharGPT, load_wikitext2_chars, train_char_lm, evaluate_bpc
    vocab, train_ids, test_ids = load_wikitext2_chars(100_000)
    cfg, out = dict(d_model=128, n_layers=4, n_heads=4, ctx=128), {}
    for name, extra, lam in (("causal", {}, 0.0), ("adaptive_span", dict(adaptive_span=True, ramp=32), 2e-3)):
        torch.manual_seed(seed)
        model = CharGPT(len(vocab), **cfg, **extra)
        t0 = time.perf_counter()
        with quiet(): losses = train_char_lm(model, train_ids, 400, 16, span_lambda=lam, seed=seed)
        secs = time.perf_counter() - t0
        out[name] = dict(bpc=evaluate_bpc(model, test_ids), last20_loss=float(np.mean(losses[-20:])), seconds=secs,
                         mean_span=float(model.spans().mean()) if lam else None)
    return out


def row_07a(seed, r):
    c, s = r["causal"], r["adaptive_span"]
    return (f"| 07a `train_char_lm` | {seed} | causal **{c['bpc']:.3f}** bpc, adaptive span **{s['bpc']:.3f}** bpc "
            f"(mean span {s['mean_span']:.1f}) | {c['seconds'] + s['seconds']:.0f} |")


LOOPS = {k[4:]: (v, globals()["row_" + k[4:]]) for k, v in dict(globals()).items() if k.startswith("run_")}


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("loop", choices=sorted(LOOPS))
    p.add_argument("--seeds", default="0", help="comma-separated seeds (the notebooks use 0)")
    p.add_argument("--label", default="", help="a name for this code version in the JSON (e.g. before, after)")
    p.add_argument("--json", default=None, help="default: benchmarks/results/one_loop_LOOP[_LABEL].json")
    a = p.parse_args(argv)
    os.environ.setdefault("IN_TEST", "1")   # no progress bars from the Learner-based loops
    import nlpbook, torch
    run, row = LOOPS[a.loop]
    results = {}
    for seed in (int(s) for s in a.seeds.split(",")):
        results[seed] = run(seed)
        print(row(seed, results[seed]), file=sys.stderr, flush=True)
    print(machine_line(f"torch {torch.__version__}, {torch.get_num_threads()} threads; nlpbook from {os.path.dirname(nlpbook.__file__)}"))
    print(f"- date: {datetime.date.today()}; command: `python benchmarks/one_loop.py {a.loop} --seeds {a.seeds}`\n")
    print("| trainer | seed | figures | train s |\n|---|---|---|---|")
    print("\n".join(row(seed, r) for seed, r in results.items()))
    out = a.json or f"benchmarks/results/one_loop_{a.loop}{'_' + a.label if a.label else ''}.json"
    write_json(out, dict(loop=a.loop, label=a.label, date=str(datetime.date.today()), nlpbook=os.path.dirname(nlpbook.__file__),
                         results=results), default=float)


if __name__ == "__main__":
    main()
