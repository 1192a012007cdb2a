"""Chapter 7 benchmark: a small character-level GPT on WikiText-2 raw, with and without adaptive attention span.

Run from the project root (WikiText-2 comes from the cache, $NLPBOOK_MIRROR, or its URL):

    NLPBOOK_MIRROR=/work/shared/data .venv/bin/python benchmarks/ch07_small_gpt.py                 # book scale
    NLPBOOK_MIRROR=/work/shared/data .venv/bin/python benchmarks/ch07_small_gpt.py --steps 200     # a quick look

It trains `nlpbook.attention_variants.CharGPT` (4 layers, d=128, 4 heads, 128 characters of context by
default) on `wiki.valid.raw` and reports bits per character on `wiki.test.raw` (all of it by default), first
with Chapter 7's causal `MultiHeadAttention`, then with `AdaptiveSpanAttention` once per L1 penalty in
`--lambdas` (spans start at 0, ramp 32). It prints a markdown table for BENCHMARKS.md (model, parameters,
steps, train seconds, test bpc, mean span per layer) under the machine line, next to the unigram baseline.
The book (and the adaptive-span paper) measured enwik8, which is not available offline; WikiText-2 at the
character level is the nearest corpus we mirror, so the bpc figures are not comparable with enwik8's.
The result is also written to benchmarks/results/ch07_small_gpt.json.
"""
from __future__ import annotations
import argparse, contextlib, datetime, sys, time
from pathlib import Path

from common import machine_line, write_json  # benchmarks/common.py


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--steps", type=int, default=3000, help="AdamW steps per model")
    p.add_argument("--bs", type=int, default=32, help="windows per batch")
    p.add_argument("--lr", type=float, default=3e-3)
    p.add_argument("--d-model", type=int, default=128)
    p.add_argument("--layers", type=int, default=4)
    p.add_argument("--heads", type=int, default=4)
    p.add_argument("--ctx", type=int, default=128, help="context length in characters (also the maximum span)")
    p.add_argument("--ramp", type=float, default=32.0, help="adaptive-span ramp R")
    p.add_argument("--lambdas", default="2e-3,2e-2", help="comma-separated L1 span penalties (one adaptive-span model each)")
    p.add_argument("--eval-chars", type=int, default=None, help="evaluate on the first N test characters (default: all)")
    p.add_argument("--impl", default="torch", help="attention impl: math, torch, triton (adaptive span also: auto)")
    p.add_argument("--device", default="cuda" if _cuda() else "cpu")
    p.add_argument("--threads", type=int, default=None, help="torch.set_num_threads (default: torch's choice)")
    p.add_argument("--json", default="benchmarks/results/ch07_small_gpt.json")
    a = p.parse_args(argv)

    import torch
    from nlpbook.attention_variants import CharGPT, load_wikitext2_chars, unigram_bpc, train_char_lm, evaluate_bpc
    if a.threads: torch.set_num_threads(a.threads)
    vocab, train_ids, test_ids = load_wikitext2_chars(a.eval_chars)
    base = unigram_bpc(train_ids, test_ids, len(vocab))
    cfg = dict(d_model=a.d_model, n_layers=a.layers, n_heads=a.heads, ctx=a.ctx)
    runs = [("causal attention", dict(), 0.0)]
    runs += [(f"adaptive span, λ={lam:g}", dict(adaptive_span=True, ramp=a.ramp), lam)
             for lam in (float(x) for x in a.lambdas.split(",") if x.strip())]
    rows = []
    for name, extra, lam in runs:
        torch.manual_seed(0)
        model = CharGPT(len(vocab), **cfg, **extra, impl=a.impl).to(a.device)
        t0 = time.time()
        with contextlib.redirect_stdout(sys.stderr):   # the progress bar goes to stderr: stdout is the table
            losses = train_char_lm(model, train_ids, a.steps, a.bs, lr=a.lr, span_lambda=lam)
        if a.device.startswith("cuda"): torch.cuda.synchronize()
        seconds = time.time() - t0
        bpc = evaluate_bpc(model, test_ids)
        spans = model.spans().cpu() if extra else None
        rows.append(dict(model=name, params=sum(p.numel() for p in model.parameters()), steps=a.steps,
                         train_seconds=seconds, test_bpc=bpc, final_train_loss=sum(losses[-50:]) / len(losses[-50:]),
                         mean_span_per_layer=None if spans is None else [round(float(s), 1) for s in spans.mean(1)],
                         spans=None if spans is None else spans.tolist()))
        print(f"{name}: {seconds:.0f} s, test {bpc:.3f} bpc", file=sys.stderr)

    print(f"### Chapter 7: character-level GPT on WikiText-2 raw ({datetime.date.today()})\n")
    print(machine_line(f"torch {torch.__version__}, device {a.device}"))
    print(f"- data: train wiki.valid.raw ({len(train_ids):,} chars), test wiki.test.raw ({len(test_ids):,} chars), "
          f"{len(vocab)} symbols; unigram baseline {base:.3f} bpc")
    print(f"- model: {a.layers} layers, d={a.d_model}, {a.heads} heads, context {a.ctx}; batch {a.bs} x {a.ctx}, "
          f"AdamW lr {a.lr}, cosine; impl {a.impl}\n")
    print("| model | params | steps | train seconds | test bpc | mean span per layer |")
    print("|---|---|---|---|---|---|")
    for r in rows:
        span = "-" if r["mean_span_per_layer"] is None else ", ".join(f"{s:.1f}" for s in r["mean_span_per_layer"])
        print(f"| {r['model']} | {r['params']:,} | {r['steps']} | {r['train_seconds']:.0f} | {r['test_bpc']:.3f} | {span} |")
    out = Path(a.json)
    write_json(out, dict(date=str(datetime.date.today()), args=vars(a), unigram_bpc=base, rows=rows))


def _cuda() -> bool:
    try:
        import torch
        return torch.cuda.is_available()
    except ImportError: return False


if __name__ == "__main__":
    main()
