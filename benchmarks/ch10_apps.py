"""Chapter 10 benchmark: the four Streamlit apps' start time to healthy, first render and per-request render time.

Run from the project root (AG News from the cache, $NLPBOOK_MIRROR, or its URL; Chapter 3's pipelines from the cache,
trained first if missing):

    NLPBOOK_MIRROR=/work/shared/data .venv/bin/python benchmarks/ch10_apps.py [--train]

For each app (`nlpbook.apps.APPS`, the annotation app aside) it measures, interleaving the apps rep by rep:

- **start to healthy**: `serve_app(name)` (what `nlpbook app NAME` runs once the pipelines exist) from starting
  `streamlit run` to the first 200 of `/_stcore/health`, and the server's resident memory (RSS) at that moment;
- **first render**: a fresh Python process runs the page once in Streamlit's `AppTest`: loading AG News and the
  pipelines into `st.cache_data` / `st.cache_resource`, then drawing. This is what the first visitor of a fresh
  server waits for after the health check (Python's own start-up and imports are not in it);
- **per request**: in that process, `--requests` reruns of the page with a changed input (the next article number;
  another typed text), each timed: the render time of a later visitor, models cached.

`--train` also times training Chapter 3's two pipelines from nothing (into a temporary cache), the app's first-use
cost on a fresh machine. `--users N` (default 20; 0 skips it) is a load check with real browser sessions: one
headless Chromium (tests/chromium.py) opens N tabs at once on one fresh `ner-agnews` server, and the check waits
until every tab shows both models' entities (the models load once, for the first session; the others wait for
them); then all N tabs reload at once, with the models warm. Reported: the time until the last tab had its
entities, each time, and the server's resident memory when healthy, after the N sessions, and after the reload.
It prints a markdown table for BENCHMARKS.md and writes benchmarks/results/ch10_apps.json.
"""
from __future__ import annotations
import argparse, datetime, json, os, statistics, subprocess, sys, tempfile, time
from pathlib import Path

from common import machine_line, write_json  # benchmarks/common.py

TEXTS = ["Reuters - Intel Corp. (NASDAQ: INTC) said on Monday in Santa Clara that it would cut chip prices.",
         "Tiger Woods fell four shots behind Vijay Singh at the PGA Championship in Wisconsin on Saturday.",
         "Elon Musk said Tesla would build a new factory in Texas, and its shares rose as investors bet on sales.",
         "NASA's new rover sent back images from Mars as engineers in Pasadena tested its software."]


def rss_mb(pid: int) -> float:
    "Resident memory of process `pid` in MB (Linux /proc)."
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"): return int(line.split()[1]) / 1024
    return float("nan")


def apptest_run(name: str, requests: int) -> dict:
    "In this (fresh) process: the page's first render, then `requests` timed reruns with a changed input."
    import logging
    from streamlit.testing.v1 import AppTest
    from nlpbook.apps import APPS
    logging.getLogger("streamlit").setLevel(logging.ERROR)
    page = APPS[name][0]
    at = AppTest.from_string(f"from nlpbook.apps import {page}\n{page}(None)", default_timeout=600)
    t0 = time.perf_counter(); at.run(); first = time.perf_counter() - t0
    if at.exception or at.error: raise SystemExit(f"{name}: {[e.value for e in [*at.exception, *at.error]]}")
    times = []
    for i in range(requests):
        if name.endswith("agnews"): at.sidebar.number_input[0].set_value(2 + i % 1000)
        else: at.text_area[0].input(TEXTS[i % len(TEXTS)] + f" ({i})")
        t0 = time.perf_counter(); at.run(); times.append(time.perf_counter() - t0)
        if at.exception or at.error: raise SystemExit(f"{name} rerun {i}: {[e.value for e in [*at.exception, *at.error]]}")
    return dict(first_s=first, request_s=times)


def load_check(users: int, timeout: float = 600) -> dict:
    "N browser tabs at once on one fresh ner-agnews server: seconds until all show entities (cold, then reloaded), RSS."
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent/"tests"))
    from chromium import headless_chromium   # tests/chromium.py: Debian's chromium, explicit driver path
    from selenium.webdriver.common.by import By
    from nlpbook.apps import app_healthy, serve_app
    def all_rendered(drv, tabs, t0):
        while time.perf_counter() - t0 < timeout:
            done = 0
            for h in tabs:
                drv.switch_to.window(h)
                done += len(drv.find_elements(By.CSS_SELECTOR, "div.entities")) == 2
            if done == len(tabs): return time.perf_counter() - t0
            time.sleep(0.5)
        raise SystemExit(f"load check: not every tab rendered within {timeout:.0f} s")
    with serve_app("ner-agnews") as server, headless_chromium(1000, 800) as drv:
        pid, out = server.process.pid, {"users": users, "rss_healthy_mb": rss_mb(server.process.pid)}
        tabs, t0 = [drv.current_window_handle], time.perf_counter()
        drv.get(server.url)
        for _ in range(users - 1):
            drv.switch_to.new_window("tab"); drv.get(server.url); tabs.append(drv.current_window_handle)
        out["cold_all_rendered_s"] = all_rendered(drv, tabs, t0)
        out["rss_after_mb"] = rss_mb(pid)
        t0 = time.perf_counter()
        for h in tabs: drv.switch_to.window(h); drv.execute_script("location.reload()")
        time.sleep(1)   # let the reloads replace the old pages before counting
        out["warm_all_rendered_s"] = all_rendered(drv, tabs, t0)
        out["rss_after_reload_mb"] = rss_mb(pid)
        out["healthy_after"] = app_healthy(server.url)
    return out


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--reps", type=int, default=3, help="interleaved repetitions (medians are reported)")
    p.add_argument("--requests", type=int, default=20, help="timed reruns per app and rep")
    p.add_argument("--train", action="store_true", help="also time training Chapter 3's pipelines from nothing")
    p.add_argument("--users", type=int, default=20, help="browser tabs at once in the load check (0: skip it)")
    p.add_argument("--apptest", help=argparse.SUPPRESS)   # internal: one app's AppTest timings, as JSON on stdout
    a = p.parse_args(argv)
    if a.apptest: return print(json.dumps(apptest_run(a.apptest, a.requests)))

    import spacy, streamlit
    from nlpbook.apps import APPS, chapter3_pipeline, serve_app, train_chapter3_ner, train_chapter3_textcat
    names = [n for n, (page, *_) in APPS.items() if page]
    for kind in ("textcat", "ner"): chapter3_pipeline(kind)     # trained once here if missing, never inside a timing
    out = dict(date=datetime.date.today().isoformat(), machine=machine_line(f"Streamlit {streamlit.__version__}, spaCy {spacy.__version__}"),
               reps=a.reps, requests=a.requests, apps={n: dict(healthy_s=[], rss_mb=[], first_s=[], request_s=[]) for n in names})
    if a.train:
        with tempfile.TemporaryDirectory(prefix="ch10-train-") as cache:
            os.environ["NLPBOOK_CACHE"] = cache   # AG News comes from $NLPBOOK_MIRROR (or the URL) into this cache
            try:
                out["train_s"] = {}
                for kind, train in (("textcat", train_chapter3_textcat), ("ner", train_chapter3_ner)):
                    t0 = time.perf_counter(); train(); out["train_s"][kind] = time.perf_counter() - t0
            finally: del os.environ["NLPBOOK_CACHE"]
    here = Path(__file__).parent
    for rep in range(a.reps):
        for name in names:
            r = out["apps"][name]
            t0 = time.perf_counter()
            with serve_app(name) as server:
                r["healthy_s"].append(time.perf_counter() - t0)
                r["rss_mb"].append(rss_mb(server.process.pid))
            run = subprocess.run([sys.executable, str(here/"ch10_apps.py"), "--apptest", name, "--requests", str(a.requests)],
                                 capture_output=True, text=True, check=True)
            t = json.loads(run.stdout.strip().splitlines()[-1])
            r["first_s"].append(t["first_s"]); r["request_s"] += t["request_s"]
            print(f"rep {rep + 1}/{a.reps} {name}: healthy {r['healthy_s'][-1]:.1f} s, first render {t['first_s']:.1f} s, "
                  f"request median {statistics.median(t['request_s']) * 1000:.0f} ms", file=sys.stderr, flush=True)
    if a.users: out["load"] = load_check(a.users)
    write_json(here/"results"/"ch10_apps.json", out)

    med = statistics.median
    print(f"\n{out['machine']}\n- date: {out['date']}; medians of {a.reps} interleaved reps ({a.requests} requests per rep)\n")
    print("| app | start to healthy | server RSS when healthy | first render (loads data + models) | per request, median (p90) |")
    print("|---|---:|---:|---:|---:|")
    for n, r in out["apps"].items():
        req = sorted(r["request_s"])
        print(f"| `{n}` | {med(r['healthy_s']):.1f} s | {med(r['rss_mb']):.0f} MB | {med(r['first_s']):.1f} s | "
              f"{med(req) * 1000:.0f} ms ({req[int(0.9 * (len(req) - 1))] * 1000:.0f} ms) |")
    if "load" in out:
        L = out["load"]
        print(f"\nLoad check, `ner-agnews`, {L['users']} browser tabs at once (one headless Chromium): all {L['users']} showed "
              f"both models' entities after {L['cold_all_rendered_s']:.1f} s on a fresh server (models loaded by the first "
              f"session), {L['warm_all_rendered_s']:.1f} s when all reloaded at once; server RSS {L['rss_healthy_mb']:.0f} MB "
              f"when healthy, {L['rss_after_mb']:.0f} MB after the {L['users']} sessions, {L['rss_after_reload_mb']:.0f} MB "
              f"after the reload; health check after: {'200' if L['healthy_after'] else 'failed'}.")
    if "train_s" in out:
        print(f"\nFirst use on a fresh cache: training Chapter 3's text classifier {out['train_s']['textcat']:.0f} s, "
              f"custom NER model {out['train_s']['ner']:.0f} s (single runs).")


if __name__ == "__main__":
    main()
