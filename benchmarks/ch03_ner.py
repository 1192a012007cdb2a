"""Chapter 3 benchmark: spaCy's CPU NER pipeline trained on CoNLL-2003, scored on its test split.

Run from the project root (the data come from the cache, $NLPBOOK_MIRROR, or their URLs):

    NLPBOOK_MIRROR=/work/shared/data nice -n 10 .venv/bin/python benchmarks/ch03_ner.py \
        [--optimize efficiency] [--vectors PATH] [--max-epochs 10]

What it does, with spaCy's own CLI throughout (the helpers are nlpbook.custom_ner's):
  1. `spacy convert -c ner -n 10` turns eng.train / eng.testa / eng.testb (IOB1, 4 columns) into .spacy files;
  2. `spacy init config --lang en --pipeline ner --optimize OPT` (+ `fill-config`), the book's CPU pipeline;
     with --vectors PATH (a spaCy pipeline folder with static vectors, e.g. en_core_web_md's) the tok2vec
     also reads those vectors (`include_static_vectors = true`);
  3. `spacy train` on eng.train with eng.testa as the dev set (model-best is chosen on testa, the official
     development split), `--training.max_epochs`;
  4. `spacy evaluate model-best eng.testb` (the official test split) -> P/R/F overall and per type.
It prints a markdown table for BENCHMARKS.md beside spaCy's published en_core_web_sm NER figures (read from
the installed package's meta.json: OntoNotes 5, 18 labels, not CoNLL; they are the reference point for
what the same architecture reaches on its own data).
"""
from __future__ import annotations
import argparse, datetime, json, os, subprocess, sys, time
from pathlib import Path

from common import machine_line  # benchmarks/common.py


def run(args: list[str]) -> str:
    p = subprocess.run(args, capture_output=True, text=True)
    if p.returncode: sys.exit(f"failed: {' '.join(args)}\n{(p.stdout + p.stderr)[-3000:]}")
    return p.stdout + p.stderr


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--optimize", default="efficiency", choices=["efficiency", "accuracy"])
    ap.add_argument("--vectors", default=None, help="spaCy pipeline folder whose static vectors the tok2vec uses")
    ap.add_argument("--max-epochs", type=int, default=10)
    ap.add_argument("--eval-frequency", type=int, default=1000)
    ap.add_argument("--work", default=None, help="work folder (default: the nlpbook cache)")
    a = ap.parse_args(argv)

    import spacy
    from nlpbook.data import load_dataset_file, cache_dir
    from nlpbook.models import load_spacy
    from nlpbook.textcat import parse_train_log

    py = sys.executable
    work = Path(a.work) if a.work else cache_dir() / "models" / "conll2003"
    work.mkdir(parents=True, exist_ok=True)
    t_start = time.time()
    spacy_files = {}
    for split in ("eng.train", "eng.testa", "eng.testb"):
        src = load_dataset_file("conll2003", split)
        out = work / f"{split}.spacy"
        if not out.exists():
            conv = work / "convert"; conv.mkdir(exist_ok=True)
            run([py, "-m", "spacy", "convert", str(src), str(conv), "-c", "ner", "-n", "10", "-l", "en"])
            (conv / f"{Path(src).name}.spacy").rename(out) if (conv / f"{Path(src).name}.spacy").exists() \
                else next(conv.glob("*.spacy")).rename(out)
        spacy_files[split] = out

    tag = f"{a.optimize}{'_vectors' if a.vectors else ''}"
    cfg = work / f"ner_{tag}.cfg"
    run([py, "-m", "spacy", "init", "config", str(cfg), "--lang", "en", "--pipeline", "ner", "--optimize", a.optimize, "--force"])
    c = spacy.util.load_config(cfg)
    c["paths"]["vectors"] = str(a.vectors) if a.vectors else None
    c["initialize"]["vectors"] = "${paths.vectors}"
    c["components"]["tok2vec"]["model"]["embed"]["include_static_vectors"] = bool(a.vectors)
    c.to_disk(cfg)
    run([py, "-m", "spacy", "init", "fill-config", str(cfg), str(cfg)])

    # spacy train directly (not nlpbook.textcat.train_spacy) so that its log streams to a file you can watch
    t0 = time.time()
    log_file, model_dir = work / f"train_{tag}.log", work / f"model_{tag}"
    with open(log_file, "w") as lf:
        p = subprocess.run([py, "-m", "spacy", "train", str(cfg), "--output", str(model_dir),
                            "--paths.train", str(spacy_files["eng.train"]), "--paths.dev", str(spacy_files["eng.testa"]),
                            "--training.max_epochs", str(a.max_epochs), "--training.eval_frequency", str(a.eval_frequency)],
                           stdout=lf, stderr=subprocess.STDOUT, env={**os.environ, "PYTHONUNBUFFERED": "1"})
    log = log_file.read_text()
    if p.returncode: sys.exit(f"spacy train failed, see {log_file}:\n{log[-3000:]}")
    train_s = time.time() - t0
    hist = parse_train_log(log)
    metrics = work / f"testb_{tag}.json"
    run([py, "-m", "spacy", "evaluate", str(model_dir / "model-best"), str(spacy_files["eng.testb"]),
         "--output", str(metrics)])
    m = json.loads(metrics.read_text())

    sm = load_spacy("en_core_web_sm").meta["performance"]
    per = m["ents_per_type"]
    date = datetime.date.today().isoformat()
    print(f"### CoNLL-2003 English NER, spaCy CPU pipeline (`--optimize {a.optimize}`"
          f"{', static vectors ' + Path(a.vectors).name if a.vectors else ', no static vectors'})\n")
    print(machine_line(f"spaCy {spacy.__version__}"))
    print(f"- date: {date}; command: `python benchmarks/ch03_ner.py --optimize {a.optimize}"
          f"{' --vectors PATH' if a.vectors else ''} --max-epochs {a.max_epochs}`")
    print(f"- training: {len(hist)} evaluations, {int(hist.epoch.max()) + 1} epochs, {train_s / 60:.1f} min "
          f"(shared 2-core machine; total run {(time.time() - t_start) / 60:.1f} min); best dev (testa) F "
          f"{hist.ents_f.max():.2f}; model-best evaluated on testb\n")
    print("| model | data | P | R | F | PER F | ORG F | LOC F | MISC F |")
    print("|---|---|---|---|---|---|---|---|---|")
    f = lambda t: f"{per[t]['f'] * 100:.2f}" if t in per else "-"
    print(f"| ours: tok2vec+ner, {a.optimize}{' + vectors' if a.vectors else ''} | CoNLL-2003 testb (3,453 sents) | "
          f"{m['ents_p'] * 100:.2f} | {m['ents_r'] * 100:.2f} | {m['ents_f'] * 100:.2f} | {f('PER')} | {f('ORG')} | {f('LOC')} | {f('MISC')} |")
    sp = sm["ents_per_type"]
    print(f"| spaCy's en_core_web_sm 3.8 (published meta) | OntoNotes 5 test, 18 labels | {sm['ents_p'] * 100:.2f} | "
          f"{sm['ents_r'] * 100:.2f} | {sm['ents_f'] * 100:.2f} | PERSON {sp['PERSON']['f'] * 100:.2f} | "
          f"{sp['ORG']['f'] * 100:.2f} | GPE {sp['GPE']['f'] * 100:.2f} / LOC {sp['LOC']['f'] * 100:.2f} | - |")
    print(f"\nGoal: test F >= 88.00 -> {'met' if m['ents_f'] >= 0.88 else 'NOT met'} ({m['ents_f'] * 100:.2f}).")


if __name__ == "__main__":
    main()
