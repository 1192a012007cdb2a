"""Chapter 3 benchmark: AG News topic classification with spaCy's CLI and a TF-IDF baseline, on all training rows.

Run from the project root (AG News from the cache, $NLPBOOK_MIRROR, or, with --download, its URL):

    NLPBOOK_MIRROR=/work/shared/data .venv/bin/python benchmarks/ch03_textcat.py               # fallback pool
    NLPBOOK_MIRROR=/work/shared/data .venv/bin/python benchmarks/ch03_textcat.py --download    # book split of train.csv

Data: `nlpbook.textcat.ag_news_splits`. This is the book's stratified 80/20 split (random_state=2020) of
train.csv (96,000 / 24,000, plus the official 7,600-row test set) when that file is available. Without it, the
same split is made of the 7,600 test rows (6,080 / 1,520), and the table says so. Models, all trained on the
same training rows and scored on the same held-out rows:
  - TF-IDF (words + word pairs) + LinearSVC, and + logistic regression (the "start simple" baseline);
  - spaCy `textcat` and `textcat_multilabel` from `spacy init config --optimize efficiency` (CPU bag of words),
    as generated (unigrams), and with `--components.<name>.model.ngram_size 2`;
  - spaCy `textcat` with the ensemble architecture over en_core_web_sm's pretrained tok2vec
    (`ensemble_config`, the CPU form of the book's transfer learning); `--no-ensemble` skips it.
Prints a markdown table for BENCHMARKS.md and writes benchmarks/results/ch03_textcat.json. The pipelines are
saved under nlpbook.data.cache_dir()/'pipelines'/'ag_news_bench_*'.
"""
from __future__ import annotations
import argparse, datetime, json, sys, time
from pathlib import Path

from common import machine_line, write_json  # benchmarks/common.py


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--download", action="store_true", help="fetch AG News train.csv (29 MB) if it is not cached/mirrored")
    p.add_argument("--epochs", type=int, default=10, help="spaCy training.max_epochs (default 10)")
    p.add_argument("--no-ensemble", action="store_true", help="skip the tok2vec ensemble run (the slowest)")
    p.add_argument("--only", default=None, help="comma-separated run names to keep (e.g. tfidf_svc,textcat_bow1)")
    args = p.parse_args(argv)

    import spacy
    from nlpbook.data import cache_dir
    from nlpbook.textcat import (ag_news_splits, write_docbins, read_docbin, textcat_config, ensemble_config, train_spacy,
                                 textcat_metrics, tfidf_baseline, parse_train_log)
    splits = ag_news_splits(download=args.download)
    work = cache_dir()/'ch03_textcat'/'bench'
    held = {'eval': splits['eval']} | ({'test': splits['test']} if splits['test'] else {})
    print(splits['source'], {k: len(v) for k, v in splits.items() if isinstance(v, list)}, file=sys.stderr)

    rows = []
    def keep(name): return args.only is None or name in args.only.split(',')

    for model, name in (('linear_svc', 'tfidf_svc'), ('logreg', 'tfidf_logreg')):
        if not keep(name): continue
        for split, tasks in held.items():
            r = tfidf_baseline(splits['train'], tasks, model)
            rows.append(dict(run=name, model=f"TF-IDF (1-2 grams) + {model}", eval_on=split, epochs=None,
                             **{k: r[k] for k in ('accuracy', 'macro_f1', 'macro_auc', 'fit_seconds')}, cats_score=None))
            print(rows[-1], file=sys.stderr)

    corpus = {kind: write_docbins({'train': splits['train'], **held}, kind, work/'corpus'/kind)
              for kind in ('textcat', 'textcat_multilabel')}
    docs = {split: read_docbin(corpus['textcat'][split]) for split in held}
    common = {'training.max_epochs': args.epochs, 'training.eval_frequency': 200, 'training.batcher.size': 2000}
    runs = []
    for kind in ('textcat', 'textcat_multilabel'):
        cfg = textcat_config(work/'configs'/f'{kind}.cfg', kind)
        runs.append((f'{kind}_bow1', f"spaCy {kind}, BOW unigrams (init config)", cfg, kind, {}))
        runs.append((f'{kind}_bow2', f"spaCy {kind}, BOW 1-2 grams", cfg, kind, {f'components.{kind}.model.ngram_size': 2}))
    if not args.no_ensemble:
        runs.append(('textcat_ensemble_sm', "spaCy textcat, ensemble on en_core_web_sm tok2vec",
                     ensemble_config(work/'configs'/'textcat_ensemble.cfg', 'textcat'), 'textcat', {}))
    for name, label, cfg, kind, extra in runs:
        if not keep(name): continue
        t0 = time.perf_counter()
        best = train_spacy(cfg, corpus[kind]['train'], corpus[kind]['eval'], cache_dir()/'pipelines'/f'ag_news_bench_{name}',
                           overrides=common | extra)
        seconds = json.loads((best.parent/'train.json').read_text())['seconds']
        log = parse_train_log((best.parent/'train.log').read_text())
        nlp = spacy.load(best)
        for split in held:
            m = textcat_metrics(nlp, docs[split])
            rows.append(dict(run=name, model=label, eval_on=split, epochs=int(log.epoch.max()) + 1,
                             accuracy=m['accuracy'], macro_f1=m['macro_f1'], macro_auc=m['macro_auc'],
                             fit_seconds=seconds, cats_score=m['cats_score'], cats_score_desc=m['cats_score_desc']))
            print(rows[-1], f"({time.perf_counter() - t0:.0f} s)", file=sys.stderr)

    import nlpbook, sklearn
    print(f"\n### AG News topic classification, all training rows ({datetime.date.today()})\n")
    print(machine_line(f"spaCy {spacy.__version__}, scikit-learn {sklearn.__version__}, nlpbook {nlpbook.__version__}"))
    print(f"- data: {splits['source']}; train {len(splits['train']):,}, eval {len(splits['eval']):,}"
          + (f", test {len(splits['test']):,}" if splits['test'] else ""))
    print(f"- spaCy: max_epochs {args.epochs}, batches of 2,000 words, eval every 200 steps, model-best scored; "
          "times are wall-clock training (CLI start-up included) on a shared 2-core machine\n")
    print("| model | scored on | accuracy | macro F1 | macro AUC | spaCy cats_score | train s |")
    print("|---|---|---|---|---|---|---|")
    for r in rows:
        cs = f"{r['cats_score']:.4f} ({r['cats_score_desc']})" if r.get('cats_score') is not None else "—"
        print(f"| {r['model']} | {r['eval_on']} | {r['accuracy']:.4f} | {r['macro_f1']:.4f} | {r['macro_auc']:.4f} | {cs} | "
              f"{r['fit_seconds']:.1f} |")
    out = Path(__file__).parent/'results'/'ch03_textcat.json'
    write_json(out, dict(date=str(datetime.date.today()), source=splits['source'], epochs=args.epochs, rows=rows))


if __name__ == "__main__":
    main()
