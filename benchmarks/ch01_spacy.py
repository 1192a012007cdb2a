"""Chapter 1 benchmark: spaCy model load time, and the book's per-text `apply` loop vs `nlp.pipe`.

Run from the project root (the dataset comes from the cache, $NLPBOOK_MIRROR, or its URL):

    NLPBOOK_MIRROR=/work/shared/data .venv/bin/python benchmarks/ch01_spacy.py

It measures, in one run:
  * load time of `load_spacy("en_core_web_sm")` in fresh Python processes (import spaCy + load: what a
    CLI call or a notebook's first cell pays), and repeated loads in this process (imports warm);
  * the first N Jeopardy questions parsed by the book's `data["question"].apply(lambda x: nlp(x))` and by
    `list(nlp.pipe(questions, batch_size=B))` (and optionally `n_process=2`), interleaved rep by rep so
    drift on a shared machine hits both alike; after checking both give the same annotations.
It prints a markdown table (machine, date, command, medians, ratios) for BENCHMARKS.md.
"""
from __future__ import annotations
import argparse, datetime, statistics, subprocess, sys, time

from common import machine_line  # benchmarks/common.py

LOAD_SNIPPET = ("import time; t = time.perf_counter(); from nlpbook.models import load_spacy; "
                "nlp = load_spacy('en_core_web_sm'); print(time.perf_counter() - t)")


def fresh_process_loads(reps: int) -> list[float]:
    "Seconds for import + `load_spacy` in `reps` fresh interpreters."
    out = []
    for _ in range(reps):
        r = subprocess.run([sys.executable, "-c", LOAD_SNIPPET], capture_output=True, text=True, check=True)
        out.append(float(r.stdout.strip().splitlines()[-1]))
    return out


def timed(f) -> tuple[float, object]:
    t = time.perf_counter(); res = f(); return time.perf_counter() - t, res


def annotations(doc) -> list:
    return [(t.text, t.tag_, t.dep_, t.head.i, t.lemma_, t.ent_iob_, t.ent_type_) for t in doc]


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--n", type=int, default=1000, help="Jeopardy questions (the book used 1000)")
    p.add_argument("--reps", type=int, default=5, help="repetitions of each parse method")
    p.add_argument("--load-reps", type=int, default=5, help="fresh-process and in-process loads")
    p.add_argument("--batch-size", type=int, default=256)
    p.add_argument("--n-process", type=int, default=0, help="also time nlp.pipe(n_process=K) when K > 1")
    a = p.parse_args(argv)

    import spacy
    from nlpbook.data import load_jeopardy
    from nlpbook.models import load_spacy

    fresh = fresh_process_loads(a.load_reps)
    warm = [timed(lambda: load_spacy("en_core_web_sm"))[0] for _ in range(a.load_reps)]

    nlp = load_spacy("en_core_web_sm")
    data = load_jeopardy(a.n)
    questions = data["question"].tolist()
    methods = {
        "book: `data['question'].apply(lambda x: nlp(x))`": lambda: data["question"].apply(lambda x: nlp(x)).tolist(),
        f"`list(nlp.pipe(questions, batch_size={a.batch_size}))`": lambda: list(nlp.pipe(questions, batch_size=a.batch_size)),
    }
    if a.n_process > 1:
        methods[f"`list(nlp.pipe(questions, batch_size={a.batch_size}, n_process={a.n_process}))`"] = \
            lambda: list(nlp.pipe(questions, batch_size=a.batch_size, n_process=a.n_process))

    # warm-up pass, which also checks that every method gives the same annotations
    ref = None
    for name, f in methods.items():
        got = [annotations(d) for d in f()]
        if ref is None: ref = got
        elif got != ref: sys.exit(f"{name} gives different annotations from the book's loop")
    times = {name: [] for name in methods}
    for _ in range(a.reps):
        for name, f in methods.items(): times[name].append(timed(f)[0])

    med = {k: statistics.median(v) for k, v in times.items()}
    book = next(iter(med))
    cmd = " ".join(["python", "benchmarks/ch01_spacy.py"] + (argv if argv is not None else sys.argv[1:]))
    lines = [
        f"### Chapter 1: spaCy load and parse ({datetime.date.today().isoformat()})",
        "",
        machine_line(f"spaCy {spacy.__version__}, model {nlp.meta['name']} {nlp.meta['version']}"),
        f"- command: `NLPBOOK_MIRROR=... {cmd}`",
        f"- data: first {len(questions):,} Jeopardy questions ({sum(len(q) for q in questions):,} characters); "
        f"all methods checked to give identical annotations",
        f"- medians of {a.reps} interleaved repetitions after one warm-up pass; load times: medians of {a.load_reps}",
        "",
        "| measurement | median (s) | min-max (s) | questions/s | speed-up vs book |",
        "|---|---:|---:|---:|---:|",
        f"| `load_spacy('en_core_web_sm')`, fresh process (import + load) | {statistics.median(fresh):.2f} | "
        f"{min(fresh):.2f}-{max(fresh):.2f} | | |",
        f"| `load_spacy('en_core_web_sm')`, repeated in one process | {statistics.median(warm):.2f} | "
        f"{min(warm):.2f}-{max(warm):.2f} | | |",
    ]
    for name, m in med.items():
        lines.append(f"| parse: {name} | {m:.2f} | {min(times[name]):.2f}-{max(times[name]):.2f} | "
                     f"{len(questions) / m:,.0f} | {med[book] / m:.2f}x |")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
