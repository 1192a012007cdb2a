"""Issue 24 benchmark: annotation to model, from each of the three annotation shapes, with the `nlpbook` workflow.

Run from the project root (AG News' test file from the cache or $NLPBOOK_MIRROR):

    NLPBOOK_MIRROR=/work/shared/data .venv/bin/python benchmarks/annotation_workflow.py [--epochs 10]

Each run goes the way a practitioner's does: the answers are written as Prodigy-format JSONL, imported into a
dataset of a fresh annotation database (`db_in`), converted from that dataset to train/dev `.spacy` files
(`convert`: answers merged per text, split by text), trained with Chapter 3's spaCy configs (`train_model`),
and scored on the dev files with spaCy's scorer (`evaluate_model`). The three shapes:
  - ner: Chapter 3c's gold set (300 AG News descriptions; ORG, PERSON, GPE, TICKER spans), `ner.manual` answers;
  - binary: `textcat.teach`-style answers, one label (Business) per task, accept or reject, on 800 AG News test
    rows (200 Business accepted, 600 other topics rejected): `textcat_multilabel`, rejects as Business = 0.0;
  - choice: `textcat.manual --exclusive` answers (options = the four topics, accept = the true one) on 800 rows,
    200 per topic: exclusive `textcat`.
Prints a markdown table for BENCHMARKS.md and writes benchmarks/results/annotation_workflow.json.
"""
from __future__ import annotations
import argparse, sys, tempfile, time
from pathlib import Path

from common import machine_line, write_json  # benchmarks/common.py


def shapes(n_per_topic: int = 200, seed: int = 0) -> dict:
    "The three annotation shapes as lists of tasks, made from the mirror's data."
    from nlpbook.data import load_ag_news
    from nlpbook.custom_ner import load_gold
    ag = load_ag_news("test")
    rows = ag.groupby("class_name").sample(n_per_topic, random_state=seed)
    texts = (rows.title + " " + rows.description).tolist()
    topics = sorted(rows.class_name.unique())
    binary = [{"text": t, "label": "Business", "answer": "accept" if c == "Business" else "reject"}
              for t, c in zip(texts, rows.class_name)]
    choice = [{"text": t, "options": [{"id": l, "text": l} for l in topics], "accept": [c], "answer": "accept"}
              for t, c in zip(texts, rows.class_name)]
    import spacy
    tok, gold = spacy.blank("en"), []
    for t in load_gold("all"):   # as 03c's gold_docbin: spans off the blank English tokenizer's boundaries are left out
        doc = tok.make_doc(t["text"])
        gold.append({**t, "spans": [s for s in t["spans"] if doc.char_span(s["start"], s["end"]) is not None]})
    return {"ner": ("ner", gold), "binary": ("textcat_multilabel", binary), "choice": ("textcat", choice)}


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--epochs", type=int, default=10, help="spaCy training.max_epochs (default 10)")
    args = p.parse_args(argv)
    import spacy
    from nlpbook.annotation import write_jsonl
    from nlpbook.annotation_db import db_in, convert, train_model, evaluate_model
    results, work = [], Path(tempfile.mkdtemp(prefix="nlpbook-annotation-bench-"))
    for name, (kind, tasks) in shapes().items():
        t0 = time.perf_counter()
        src = write_jsonl(work/f"{name}.jsonl", tasks)
        db_in(name, src, db=work/"annotations.sqlite")
        c = convert(name, work/name, kind=kind, db=work/"annotations.sqlite")
        t1 = time.perf_counter()
        best = train_model(kind, c["train_path"], c["dev_path"], work/f"{name}_model", {"training.max_epochs": args.epochs})
        t2 = time.perf_counter()
        table = evaluate_model(best, c["dev_path"])
        print(f"{name} ({kind}): {c['train']} train / {c['dev']} dev docs; {c['accept']} accepted, {c['reject']} rejected", file=sys.stderr)
        print(table.to_string(index=False), file=sys.stderr)
        results.append(dict(shape=name, kind=kind, train=c["train"], dev=c["dev"], accept=c["accept"], reject=c["reject"],
                            per_label=table.to_dict("records"), all_f=float(table[table.label == "ALL"].f.iloc[0]),
                            prepare_s=t1 - t0, train_s=t2 - t1, epochs=args.epochs))
    print(f"\n{machine_line(f'spaCy {spacy.__version__}')}\n")
    print("| shape | kind | train / dev docs | answers (accept / reject) | dev F (ALL) | per label F | train s |")
    print("|---|---|---|---|---|---|---|")
    for r in results:
        per = ", ".join(f"{x['label']} {x['f']:.2f}" for x in r["per_label"] if x["label"] != "ALL")
        print(f"| {r['shape']} | {r['kind']} | {r['train']} / {r['dev']} | {r['accept']} / {r['reject']} | {r['all_f']:.3f} | {per} | {r['train_s']:.0f} |")
    write_json(Path(__file__).parent/"results"/"annotation_workflow.json", results)


if __name__ == "__main__":
    main()
