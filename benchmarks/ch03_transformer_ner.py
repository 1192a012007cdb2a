"""Chapter 3 benchmark: MiniLM token-classification NER on the TICKER gold set, at bigger settings than the notebook.

Run from the project root (AG News test comes from the cache, $NLPBOOK_MIRROR, or its URL):

    NLPBOOK_MIRROR=/work/shared/data HF_HUB_OFFLINE=1 nice -n 10 .venv/bin/python benchmarks/ch03_transformer_ner.py \
        [--settings 3:8,3:16,6:6] [--lr 3e-4] [--bs 8] [--threads 2] [--seed 0]

Each setting `TRAINABLE:EPOCHS` trains all-MiniLM-L6-v2 + a token-classification head with the top TRAINABLE
encoder layers unfrozen (6: the whole model, embeddings included) for EPOCHS epochs on load_gold('train')
(200 descriptions), with nlpbook.transformer_ner.fit_transformer_ner (the notebook's default is 3:8), then
scores the last epoch on load_gold('eval') (100 descriptions) with nlpbook.custom_ner.span_scores (exact
character match). It prints one markdown table: per-label F, overall P/R/F, training seconds. With all
layers unfrozen a lower --lr (e.g. 1e-4) is the usual choice.
"""
from __future__ import annotations
import argparse, datetime, sys, time

from common import machine_line  # benchmarks/common.py


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--settings", default="3:8,3:16", help="comma-separated TRAINABLE:EPOCHS")
    ap.add_argument("--lr", type=float, default=3e-4)
    ap.add_argument("--bs", type=int, default=8)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--seed", type=int, default=0)
    a = ap.parse_args(argv)

    import nlpbook  # first: hides a mismatched torchvision before transformers looks for it
    import torch, transformers
    from nlpbook.custom_ner import load_gold, span_scores, task_spans, NER_LABELS
    from nlpbook.transformer_ner import fit_transformer_ner, predict_spans
    torch.set_num_threads(a.threads); transformers.logging.set_verbosity_error()
    train, ev = load_gold("train"), load_gold("eval")
    gold = [task_spans(t) for t in ev]
    rows = []
    for s in a.settings.split(","):
        n_tr, epochs = map(int, s.split(":"))
        t0 = time.perf_counter()
        model, tok, hist = fit_transformer_ner(train, epochs=epochs, lr=a.lr, bs=a.bs, n_trainable=n_tr, seed=a.seed)
        secs = time.perf_counter() - t0
        sc = span_scores(gold, predict_spans(model, tok, [t["text"] for t in ev]), NER_LABELS) * 100
        rows.append(f"| top {n_tr} layers, {epochs} epochs | " + " | ".join(f"{sc.loc[l, 'f']:.1f}" for l in NER_LABELS)
                    + f" | {sc.loc['ALL', 'p']:.1f} | {sc.loc['ALL', 'r']:.1f} | **{sc.loc['ALL', 'f']:.1f}** | {secs:.0f} |")
        print(rows[-1], file=sys.stderr, flush=True)
    print(f"### Chapter 3 transformer NER (MiniLM token classification), {datetime.date.today()}\n")
    print(machine_line(f"torch {torch.__version__}, transformers {transformers.__version__}; {a.threads} threads"))
    print(f"- command: `python benchmarks/ch03_transformer_ner.py --settings {a.settings} --lr {a.lr} --bs {a.bs} --seed {a.seed}`")
    print("- data: 03c's gold set, 200 train / 100 eval AG News descriptions; exact-match span scores on eval, last epoch")
    print("- book (its own unpublished annotations, spacy-transformers RoBERTa on GPU): F 95.40, TICKER F ~98\n")
    print("| setting | ORG F | PERSON F | GPE F | TICKER F | P | R | F | train s |")
    print("|---|---|---|---|---|---|---|---|---|")
    print("\n".join(rows))


if __name__ == "__main__":
    main()
