"""Chapter 11 benchmark: batch NER over AG News descriptions by all five engines of `nlpbook.batch_ner`, side by side.

Run from the project root (the dataset comes from the cache, $NLPBOOK_MIRROR, or its URL):

    NLPBOOK_MIRROR=/work/shared/data .venv/bin/python benchmarks/ch11_batch_ner.py
    NLPBOOK_MIRROR=/work/shared/data .venv/bin/python benchmarks/ch11_batch_ner.py --rows 120000 --methods spacy spacy-mp spark

It measures, in one run, on the same rows (the 7,600 AG News test descriptions; `--rows N` repeats them
up to N rows and says so; the book ran the 120,000 train descriptions, which are not mirrored here):
  * each engine in a fresh Python process (`--worker`), so none inherits another's warm model, forked
    children or JVM: start-up (imports + model load, or the SparkSession) and the NER itself timed apart;
  * rows/s and chars/s of the NER itself, the speed-up over the book's `.apply` loop, and the wall time
    including start-up;
  * peak memory of the engine's whole process tree (Python, spaCy's worker processes, Spark's JVM and its
    Python workers), sampled every 0.1 s;
  * the entities of every engine checked equal, row by row (all with `pipeline='ner'`, only the components NER
    needs), and the rows where the book's loop (`pipeline='full'`: the parser's sentence boundaries constrain
    the NER) differs from them counted;
repetitions interleaved (engine order rotated), medians reported. It prints a markdown table for BENCHMARKS.md.
"""
from __future__ import annotations
import argparse, datetime, json, os, statistics, subprocess, sys, tempfile, threading, time
from pathlib import Path

from common import machine_line, write_json  # benchmarks/common.py

ENGINES = ("pandas", "spacy", "spacy-mp", "spark-udf", "spark")
METHODS = ("book",) + ENGINES   # book: the pandas engine with the full pipeline, the book's loop exactly
LABELS = {"book": "book: `df.description.apply(nlp)`, full pipeline", "pandas": "`.apply(nlp)` loop, NER components only",
          "spacy": "`nlp.pipe`, NER components only",
          "spacy-mp": "`nlp.pipe(n_process=2)`, NER only", "spark-udf": "Spark `local[*]`, book's row-at-a-time `udf`",
          "spark": "Spark `local[*]`, `Iterator[pd.Series]` `pandas_udf`"}


def worker(method: str, inp: str, out: str, batch_size: int, n_process: int):
    "One method in this fresh process: time start-up and NER apart, write the entities and timings beside `out`."
    engine, pipeline = ("pandas", "full") if method == "book" else (method, "ner")
    t0 = time.perf_counter()
    import contextlib, pandas as pd
    from nlpbook.batch_ner import _worker_nlp, entities_of, spark_session
    texts = pd.read_parquet(inp).description.tolist()
    with (spark_session() if engine.startswith("spark") else contextlib.nullcontext()) as spark:
        if spark is None: _worker_nlp("en_core_web_sm", False)            # the model load is start-up
        t1 = time.perf_counter()
        ents = entities_of(texts, engine, pipeline=pipeline, spark=spark, batch_size=batch_size, n_process=n_process)
        t2 = time.perf_counter()
    Path(out).write_text(json.dumps(dict(startup_s=t1 - t0, ner_s=t2 - t1, rows=len(texts))))
    pd.DataFrame({"entities": [json.dumps(e) for e in ents]}).to_parquet(out + ".parquet")


def tree_rss(p) -> int:
    "Resident memory (bytes) of process `p` and all its descendants."
    import psutil
    total = 0
    for q in [p] + p.children(recursive=True):
        try: total += q.memory_info().rss
        except psutil.Error: pass
    return total


def run_one(engine: str, inp: Path, tmp: Path, batch_size: int, n_process: int) -> dict:
    "Run `engine` in a fresh process; its timings, wall time, peak tree memory and entities."
    import pandas as pd, psutil
    out = str(tmp / f"{engine}.json")
    cmd = [sys.executable, __file__, "--worker", engine, "--input", str(inp), "--out", out,
           "--batch-size", str(batch_size), "--n-process", str(n_process)]
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    ps, peak, done = psutil.Process(proc.pid), [0], threading.Event()
    def sample():
        while not done.wait(0.1): peak[0] = max(peak[0], tree_rss(ps))
    th = threading.Thread(target=sample, daemon=True); th.start()
    err = proc.communicate()[1]
    wall = time.perf_counter() - t0
    done.set(); th.join()
    if proc.returncode: sys.exit(f"{engine} failed ({proc.returncode}):\n{err.decode(errors='replace')[-3000:]}")
    res = json.loads(Path(out).read_text())
    ents = pd.read_parquet(out + ".parquet").entities.tolist()
    return dict(res, wall_s=wall, peak_mb=peak[0] / 2**20, ents=ents)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--rows", type=int, default=7600, help="rows; above 7,600 the test descriptions are repeated")
    p.add_argument("--methods", nargs="+", default=list(METHODS), choices=METHODS,
                   help="book (the pandas loop with the full pipeline) and the five engines with pipeline='ner'")
    p.add_argument("--reps", type=int, default=1, help="repetitions of each engine, interleaved")
    p.add_argument("--batch-size", type=int, default=256)
    p.add_argument("--n-process", type=int, default=2)
    p.add_argument("--json", help="also write the results here (benchmarks/results/...)")
    p.add_argument("--worker", help=argparse.SUPPRESS); p.add_argument("--input", help=argparse.SUPPRESS)
    p.add_argument("--out", help=argparse.SUPPRESS)
    a = p.parse_args(argv)
    if a.worker: return worker(a.worker, a.input, a.out, a.batch_size, a.n_process)

    import pandas as pd, pyspark, spacy
    from nlpbook.data import load_ag_news
    from nlpbook.batch_ner import model_id
    ag = load_ag_news("test")
    reps_data = -(-a.rows // len(ag))
    data = pd.concat([ag] * reps_data, ignore_index=True).iloc[:a.rows][["description"]]
    chars = int(data.description.str.len().sum())
    with tempfile.TemporaryDirectory(prefix="ch11-bench-") as d:
        tmp = Path(d); inp = tmp / "input.parquet"; data.to_parquet(inp, index=False)
        runs, load = {m: [] for m in a.methods}, [os.getloadavg()[0]]
        for r in range(a.reps):
            order = a.methods[r % len(a.methods):] + a.methods[:r % len(a.methods)]   # rotate: drift hits all alike
            for m in order:
                runs[m].append(run_one(m, inp, tmp, a.batch_size, a.n_process)); load.append(os.getloadavg()[0])
                print(f"rep {r + 1}/{a.reps} {m}: NER {runs[m][-1]['ner_s']:.1f}s", file=sys.stderr, flush=True)
    ner_ms = [m for m in a.methods if m != "book"]
    ref_m = ner_ms[0] if ner_ms else "book"
    ref = runs[ref_m][0]["ents"]
    equal = {m: all(x["ents"] == ref for x in rs) for m, rs in runs.items() if m != "book"}
    book_diff = sum(x != y for x, y in zip(runs["book"][0]["ents"], ref)) if "book" in runs and ner_ms else None
    n_ents = sum(len(json.loads(e)) for e in ref)
    med = {m: {k: statistics.median(x[k] for x in rs) for k in ("startup_s", "ner_s", "wall_s")} for m, rs in runs.items()}
    peak = {m: max(x["peak_mb"] for x in rs) for m, rs in runs.items()}
    base = med["book"]["ner_s"] if "book" in med else None

    cmd = " ".join(["python", "benchmarks/ch11_batch_ner.py"] + (argv if argv is not None else sys.argv[1:]))
    what = (f"the {len(ag):,} AG News test descriptions" if a.rows == len(ag) else
            f"the {len(ag):,} AG News test descriptions repeated {reps_data}x and cut to {a.rows:,} rows" if a.rows > len(ag)
            else f"the first {a.rows:,} AG News test descriptions")
    lines = [
        f"### Chapter 11: batch NER, {a.rows:,} rows ({datetime.date.today().isoformat()})", "",
        machine_line(f"spaCy {spacy.__version__}, {model_id()}, PySpark {pyspark.__version__}, pandas {pd.__version__}"),
        f"- command: `NLPBOOK_MIRROR=... {cmd}`",
        f"- data: {what} ({chars:,} characters, {n_ents:,} entities with `pipeline='ner'`); the NER-only engines' entities "
        + ("**equal**" if all(equal.values()) else "**NOT all equal**") + f" to `{ref_m}`'s, row by row"
        + ("" if book_diff is None else f"; the book's full-pipeline loop differs from them on {book_diff:,} of {a.rows:,} rows "
           "(the parser's sentence boundaries, which NER may not cross)"),
        f"- load average (1 min) during the run: {min(load):.1f} to {max(load):.1f} on {os.cpu_count()} CPUs"
        + (" (other jobs shared the cores: absolute rates are low, compare the ratios)" if max(load) > os.cpu_count() else ""),
        f"- each engine in a fresh process; NER time excludes start-up (imports + model load, or SparkSession start); "
        f"medians of {a.reps} interleaved repetition(s); peak memory: the engine's whole process tree (JVM and workers included)",
        "",
        "| method | start-up (s) | NER (s) | rows/s | chars/s | vs book's loop | wall incl. start-up (s) | peak memory (MB) | entities equal |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for m in a.methods:
        s = med[m]
        vs = f"{base / s['ner_s']:.2f}x" if base else ""
        lines.append(f"| {LABELS[m]} | {s['startup_s']:.1f} | {s['ner_s']:.1f} | {a.rows / s['ner_s']:,.0f} | "
                     f"{chars / s['ner_s']:,.0f} | {vs} | {s['wall_s']:.1f} | {peak[m]:,.0f} | "
                     f"{'yes' if equal.get(m) else 'NO' if m in equal else f'{book_diff} rows differ' if book_diff is not None else ''} |")
    print("\n".join(lines))
    if a.json:
        write_json(a.json, dict(rows=a.rows, chars=chars, command=cmd, date=datetime.date.today().isoformat(),
                                runs={m: [{k: v for k, v in x.items() if k != "ents"} for x in rs] for m, rs in runs.items()},
                                equal=equal, book_rows_differ=book_diff, load=load))
    if not all(equal.values()): sys.exit("entities differ between engines")


if __name__ == "__main__":
    main()
