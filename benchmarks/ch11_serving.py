"""Chapter 11 benchmark: MLflow REST serving latency and throughput, single texts and batches of 10 and 100.

Run from the project root (AG News from the cache, $NLPBOOK_MIRROR, or its URL):

    NLPBOOK_MIRROR=/work/shared/data .venv/bin/python benchmarks/ch11_serving.py

It logs a spaCy text classifier (default: Chapter 3's `ag_news_textcat_few` pipeline from the cache; `--pipeline`
names another) to a temporary SQLite store twice, as this project's `SpacyModel` pyfunc (`nlp.pipe` per request)
and with the book's `mlflow.spacy.log_model` (the flavor's pyfunc: `nlp(text)` per row), and serves each with
`mlflow models serve --env-manager local` on 127.0.0.1 (one uvicorn worker). After checking that both servers answer
what the pipeline answers in process, it sends the first AG News test descriptions as `dataframe_split` requests
of 1, 10 and 100 texts, sequentially from one client (`nlpbook.serving.time_requests`), the servers and sizes
interleaved rep by rep, and reports medians over reps of requests/s, texts/s and p50/p99 latency, next to the
same batches run in process (`spacy_predict`, no HTTP). It prints a markdown table for BENCHMARKS.md and writes
benchmarks/results/ch11_serving.json.
"""
from __future__ import annotations
import argparse, contextlib, datetime, os, statistics, sys, tempfile, time
from pathlib import Path

from common import machine_line, write_json  # benchmarks/common.py


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--pipeline", help="spaCy textcat folder (default: Chapter 3's ag_news_textcat_few model-best in the cache)")
    p.add_argument("--sizes", default="1,10,100", help="texts per request")
    p.add_argument("--requests", type=int, default=100, help="requests per size, server and rep")
    p.add_argument("--reps", type=int, default=3, help="interleaved repetitions (medians are reported)")
    a = p.parse_args(argv)
    sizes = [int(s) for s in a.sizes.split(",")]

    os.environ["MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR"] = "false"
    import logging
    import mlflow, mlflow.spacy, pandas as pd, spacy
    from nlpbook.data import load_ag_news
    from nlpbook.serving import (setup_tracking, log_spacy_model, promote, model_server, invoke, spacy_predict,
                                 time_requests, payload)
    from nlpbook.textcat import pipeline_dir
    logging.getLogger("mlflow").setLevel(logging.WARNING)

    path = Path(a.pipeline) if a.pipeline else pipeline_dir("ag_news_textcat_few")/"model-best"
    if not (path/"config.cfg").is_file():
        sys.exit(f"{path} is not a spaCy pipeline: run nbs/03_ag_news_textcat.ipynb first, or pass --pipeline")
    nlp = spacy.load(path)
    texts = load_ag_news("test").description.tolist()[:max(sizes)]

    with tempfile.TemporaryDirectory(prefix="ch11-bench-") as work, contextlib.ExitStack() as stack:
        setup_tracking(work)
        ours = promote("textcat", log_spacy_model(path, "textcat")["version"])
        with mlflow.start_run(run_name="book: mlflow.spacy.log_model"):
            info = mlflow.spacy.log_model(nlp, name="model", pip_requirements=[f"spacy=={spacy.__version__}"],
                                          registered_model_name="textcat_flavor")
        book = promote("textcat_flavor", info.registered_model_version)
        t0 = time.perf_counter()
        urls = {"nlpbook `SpacyModel` pyfunc (`nlp.pipe`)": stack.enter_context(model_server(ours, log=Path(work)/"ours.log")),
                "book: `mlflow.spacy` flavor pyfunc (`nlp(text)` per row)": stack.enter_context(model_server(book, log=Path(work)/"book.log"))}
        start_s = (time.perf_counter() - t0) / 2

        # correctness first: both servers answer what the pipeline answers in process
        ref = spacy_predict(nlp, texts[:10])
        if not invoke(urls[next(iter(urls))], texts[:10]).equals(ref): sys.exit("the SpacyModel server's answer differs from spacy_predict")
        import requests
        got = requests.post(f"{urls[list(urls)[1]]}/invocations", json=payload(texts[:10]), timeout=60).json()["predictions"]
        if [g["predictions"] for g in got] != [d.cats for d in map(nlp, texts[:10])]: sys.exit("the flavor server's answer differs from doc.cats")

        runs = {(name, s): [] for name in ["in process: `spacy_predict` (no HTTP)", *urls] for s in sizes}
        for _ in range(a.reps):
            for name, url in urls.items():
                for r in time_requests(url, texts, sizes=sizes, n=a.requests).to_dict("records"): runs[(name, r["batch"])].append(r)
            for s in sizes:   # the same batches without HTTP
                lat = []
                for _ in range(a.requests):
                    t = time.perf_counter(); spacy_predict(nlp, texts[:s]); lat.append(time.perf_counter() - t)
                wall = sum(lat)
                runs[("in process: `spacy_predict` (no HTTP)", s)].append(dict(
                    batch=s, requests=a.requests, req_per_s=a.requests / wall, texts_per_s=a.requests * s / wall,
                    p50_ms=1000 * statistics.median(lat), p99_ms=1000 * sorted(lat)[min(len(lat) - 1, int(0.99 * len(lat)))]))

    med = {k: {m: statistics.median(r[m] for r in v) for m in ("req_per_s", "texts_per_s", "p50_ms", "p99_ms")} for k, v in runs.items()}
    cmd = " ".join(["python", "benchmarks/ch11_serving.py"] + (argv if argv is not None else sys.argv[1:]))
    names = list(dict.fromkeys(k[0] for k in runs))
    lines = [f"### Chapter 11: MLflow serving ({datetime.date.today().isoformat()})", "",
             machine_line(f"MLflow {mlflow.__version__}, spaCy {spacy.__version__}, pipeline {path.parent.name}/{path.name} "
                          f"({', '.join(nlp.pipe_names)})"),
             f"- command: `NLPBOOK_MIRROR=... {cmd}`",
             f"- server: `mlflow models serve --env-manager local -h 127.0.0.1`, 1 uvicorn worker; client: one `requests.Session`, "
             f"sequential POSTs of `dataframe_split` bodies (the first {max(sizes)} AG News test descriptions); "
             f"both servers checked to answer what the pipeline answers in process",
             f"- {a.requests} requests per size, server and rep after 3 warm-up requests; medians of {a.reps} interleaved reps; "
             f"server start-up (to the first `/ping`) {start_s:.1f} s each on average",
             "", "| served by | texts/request | requests/s | texts/s | p50 latency (ms) | p99 latency (ms) | texts/s vs book |",
             "|---|---:|---:|---:|---:|---:|---:|"]
    for name in names:
        for s in sizes:
            m, b = med[(name, s)], med[(names[-1], s)]
            lines.append(f"| {name} | {s} | {m['req_per_s']:,.1f} | {m['texts_per_s']:,.0f} | {m['p50_ms']:.1f} | {m['p99_ms']:.1f} | "
                         f"{m['texts_per_s'] / b['texts_per_s']:.2f}x |")
    print("\n".join(lines))
    write_json(Path(__file__).parent/"results"/"ch11_serving.json",
               dict(command=cmd, date=datetime.date.today().isoformat(), server_start_s=start_s,
                    medians={f"{k[0]} | {k[1]}": v for k, v in med.items()}, runs={f"{k[0]} | {k[1]}": v for k, v in runs.items()}))


if __name__ == "__main__":
    main()
