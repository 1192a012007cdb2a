"""Chapter 12 benchmark: four of the book's lessons measured at book scale on AG News (the whole training pool).

Run from the project root (AG News from the cache or $NLPBOOK_MIRROR):

    NLPBOOK_MIRROR=/work/shared/data .venv/bin/python benchmarks/ch12_lessons.py

Data: `nlpbook.textcat.ag_news_splits` (the book's 80/20 split of train.csv when it is available, else of the 7,600
test rows: 6,080 training / 1,520 held-out rows; the tables say which). Everything is scored on the same held-out rows:
  - Lesson 1: `nlpbook.lessons.baselines` (keyword rules, TF-IDF + logistic regression, gradient boosting) on the whole pool;
  - Lesson 6: learning curves, TF-IDF + LinearSVC (5 seeds) and spaCy's BOW textcat (2 seeds, 5 epochs);
  - Lesson 7: the router curve of TF-IDF + logistic regression and of the soft-vote ensemble (people share for a
    target accuracy of the automated part), and uncertainty sampling against random labelling (2 seeds);
  - Lesson 9: soft voting of TF-IDF + logreg, spaCy textcat and frozen MiniLM + logreg, all trained on the whole pool.
Prints markdown tables for BENCHMARKS.md and writes benchmarks/results/ch12_lessons.json.
"""
from __future__ import annotations
import argparse, datetime, sys, tempfile, time
from pathlib import Path

from common import machine_line, write_json  # benchmarks/common.py


def md_table(df, floatfmt="{:.4f}") -> str:
    "A DataFrame as a markdown table (index included), floats formatted."
    cols = [df.index.name or ''] + [str(c) for c in df.columns]
    fmt = lambda v: floatfmt.format(v) if isinstance(v, float) else f"{v:,}" if isinstance(v, int) else str(v)
    lines = ['| ' + ' | '.join(cols) + ' |', '|' + '---|' * len(cols)]
    lines += ['| ' + ' | '.join([fmt(i)] + [fmt(v) for v in row]) + ' |' for i, row in zip(df.index, df.itertuples(index=False))]
    return '\n'.join(lines)


def router_table(router):
    "One row per model: overall accuracy, then for each target the share sent to people (and the automated part's accuracy)."
    import pandas as pd
    cells = router.assign(cell=[f"{p:.1%} ({a:.4f})" for p, a in zip(router.to_people, router.automated_accuracy)],
                          target=[f"people for {t:.0%}" for t in router.target])
    table = cells.pivot(index='model', columns='target', values='cell')
    table.insert(0, 'overall accuracy', router.groupby('model').overall_accuracy.first())
    return table


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--spacy-epochs", type=int, default=5)
    args = p.parse_args(argv)

    import numpy as np, pandas as pd, spacy, sklearn, torch
    from threadpoolctl import threadpool_limits
    from nlpbook.lessons import (_xy, active_learning, baselines, curve_summary, ensemble_report, error_correlation,
                                 learning_curve, minilm_classifier, people_needed, router_curve, soft_vote, spacy_proba,
                                 spacy_scorer, tfidf_scorer)
    from nlpbook.textcat import AG_LABELS, ag_news_splits, pipeline_dir, textcat_config, tfidf_baseline, train_spacy, write_docbins

    t_start = time.perf_counter()
    splits = ag_news_splits()
    train, evl = splits['train'], splits['eval']
    N = len(train)
    frame = lambda tasks: pd.DataFrame({'text': [t['text'] for t in tasks], 'label': [t['label'] for t in tasks]})
    log = lambda *a: print(f"[{time.perf_counter() - t_start:6.0f} s]", *a, file=sys.stderr, flush=True)
    out = {}

    # Lesson 1
    with threadpool_limits(1):   # OpenMP busy-waiting on a shared machine (see the notebook)
        base, _ = baselines(frame(train), eval_df=frame(evl))
    out['baselines'] = base.to_dict('records'); log('baselines done')

    # Lesson 6
    cfg = textcat_config(pipeline_dir('ch12') / 'textcat.cfg')
    sizes = [n for n in (100, 200, 400, 800, 1600, 3200) if n < N] + [N]
    curves = {'TF-IDF + linear SVM': learning_curve(train, evl, tfidf_scorer(), sizes, (0, 1, 2, 3, 4))}
    log('tfidf curve done')
    curves[f'spaCy textcat (BOW, {args.spacy_epochs} epochs)'] = learning_curve(
        train, evl, spacy_scorer(cfg, args.spacy_epochs), [n for n in (100, 400, 1600) if n < N] + [N], (0, 1))
    lc = curve_summary(curves); out['learning_curve'] = lc.to_dict('records'); log('spacy curve done')

    # Lesson 9 (first: the router uses the ensemble's probabilities too)
    ev_texts, ev_y = _xy(evl)
    members = {'TF-IDF + logreg': tfidf_baseline(train, evl, 'logreg')['pipeline'].predict_proba(ev_texts)}
    with tempfile.TemporaryDirectory() as d:
        paths = write_docbins({'train': train, 'dev': evl[:40]}, 'textcat', d)
        best = train_spacy(cfg, paths['train'], paths['dev'], Path(d) / 'model',
                           overrides={'training.max_epochs': 10, 'training.eval_frequency': 10_000, 'training.batcher.size': 2000})
        members['spaCy textcat (BOW)'] = spacy_proba(spacy.load(best.parent / 'model-last'), ev_texts, AG_LABELS)
    log('spacy member done')
    members['MiniLM + logreg'] = minilm_classifier(train, evl)['probs']; log('minilm member done')
    ens = ensemble_report(members, ev_y, AG_LABELS)
    corr = error_correlation(members, ev_y, AG_LABELS)
    out['ensemble'] = ens.reset_index().to_dict('records'); out['error_correlation'] = corr.to_dict()

    # Lesson 7
    routers = {'TF-IDF + logreg': router_curve(members['TF-IDF + logreg'], ev_y, AG_LABELS),
               'soft vote (3 members)': router_curve(soft_vote(members), ev_y, AG_LABELS)}
    rows = []
    for name, rc in routers.items():
        for target in (0.90, 0.95, 0.98, 0.99):
            r = people_needed(rc, target)
            rows.append(dict(model=name, overall_accuracy=float(rc.automated_accuracy.iloc[0]), target=target,
                             to_people=np.nan if r is None else float(r.to_people),
                             automated_accuracy=np.nan if r is None else float(r.automated_accuracy)))
    router = pd.DataFrame(rows); out['router'] = router.to_dict('records')
    al = pd.concat([active_learning(train, evl, strategy=s, seed=seed, rounds=8) for s in ('random', 'margin') for seed in (0, 1)])
    al_table = al.groupby(['labels', 'strategy']).accuracy.mean().unstack()
    out['active_learning'] = al.to_dict('records'); log('router and active learning done')

    date = datetime.date.today().isoformat()
    versions = f"scikit-learn {sklearn.__version__}, spaCy {spacy.__version__}, torch {torch.__version__}"
    print(f"`python benchmarks/ch12_lessons.py` ({date}; {splits['source']}; {N:,} training / {len(evl):,} held-out rows)\n")
    print(machine_line(versions) + f"; total {time.perf_counter() - t_start:.0f} s\n")
    print("Lesson 1, baselines (`nlpbook.lessons.baselines`):\n")
    print(md_table(base.set_index('model')[['accuracy', 'macro_f1', 'macro_auc', 'fit_seconds']]) + "\n")
    print("Lesson 6, learning curve (held-out accuracy, mean ± std over seeds):\n")
    piv = lc.assign(cell=[f"{m:.4f} ± {s:.4f}" for m, s in zip(lc['mean'], lc['std'].fillna(0))]).pivot(index='size', columns='model', values='cell').fillna('—')
    print(md_table(piv) + "\n")
    print("Lesson 7, the people share needed for a target accuracy of the automated part:\n")
    print(md_table(router_table(router)) + "\n")
    print("Lesson 7, uncertainty (margin) sampling against random labelling, TF-IDF + logreg, mean of 2 seeds:\n")
    print(md_table(al_table) + "\n")
    print("Lesson 9, soft voting (all members trained on the same rows):\n")
    print(md_table(ens) + "\n")
    print("Correlation of the members' errors:\n")
    print(md_table(corr))
    write_json(Path(__file__).parent / 'results' / 'ch12_lessons.json',
               dict(date=date, source=splits['source'], machine=machine_line(versions), **out), default=str)


if __name__ == "__main__":
    main()
