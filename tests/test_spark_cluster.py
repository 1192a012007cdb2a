"""Chapter 11's Spark job on a real standalone cluster, not `local[*]`: a master and two one-core workers started
on 127.0.0.1 with the `spark-class` launcher shipped inside the pyspark package, the job submitted with
`master='spark://127.0.0.1:PORT'`, and every process stopped afterwards, also when the test fails.

The pyspark wheel has no `sbin/start-master.sh` (only the connect and history servers' scripts), so the
master and workers are started the way those scripts start them, `spark-class <main class>`, in the foreground
as our own child processes: no pid files, no daemons to find later.
"""
import json, os, shutil, signal, subprocess, sys, time, urllib.request
from pathlib import Path

import pytest

from nlpbook.services import free_port

pyspark = pytest.importorskip("pyspark")
pytestmark = pytest.mark.skipif(shutil.which("java") is None, reason="Spark needs Java (Debian: openjdk-17-jre-headless)")
SPARK_HOME = Path(pyspark.__file__).parent
N_WORKERS = 2


def master_state(ui_port: int) -> dict:
    "The standalone master's status page as JSON (workers, their state, running applications)."
    with urllib.request.urlopen(f"http://127.0.0.1:{ui_port}/json/", timeout=5) as r: return json.load(r)


def stop(procs, timeout: float = 20):
    "SIGTERM each process group we started (a worker's executors and Python workers are in its group), then SIGKILL."
    for p in procs:
        if p.poll() is None:
            try: os.killpg(p.pid, signal.SIGTERM)
            except ProcessLookupError: pass
    for p in procs:
        try: p.wait(timeout)
        except subprocess.TimeoutExpired:
            try: os.killpg(p.pid, signal.SIGKILL)
            except ProcessLookupError: pass
            p.wait()


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    "(master URL, master UI port): a standalone master and two 1-core workers on 127.0.0.1, stopped after the module."
    d = tmp_path_factory.mktemp("spark-cluster")
    port, ui = free_port(), free_port()
    env = {**os.environ, "SPARK_HOME": str(SPARK_HOME), "SPARK_LOCAL_IP": "127.0.0.1", "SPARK_DAEMON_MEMORY": "384m",
           "PYSPARK_PYTHON": sys.executable, "SPARK_LOG_DIR": str(d), "SPARK_WORKER_DIR": str(d / "work")}
    launcher = str(SPARK_HOME / "bin" / "spark-class")
    procs = []
    def start(name, *args):
        log = open(d / f"{name}.log", "wb")
        # a session of its own: stop() ends the process group, and only ours
        procs.append(subprocess.Popen([launcher, *args], stdout=log, stderr=subprocess.STDOUT, env=env,
                                      start_new_session=True))
    url = f"spark://127.0.0.1:{port}"
    try:
        start("master", "org.apache.spark.deploy.master.Master", "--host", "127.0.0.1", "--port", str(port),
              "--webui-port", str(ui))
        for i in range(N_WORKERS):
            start(f"worker{i}", "org.apache.spark.deploy.worker.Worker", "--host", "127.0.0.1", "--cores", "1",
                  "--memory", "1g", "--webui-port", str(free_port()), "--work-dir", str(d / f"work{i}"), url)
        deadline, state = time.time() + 120, {}
        while time.time() < deadline:
            if any(p.poll() is not None for p in procs): break
            try: state = master_state(ui)
            except OSError: state = {}
            if sum(w.get("state") == "ALIVE" for w in state.get("workers", [])) == N_WORKERS: break
            time.sleep(0.5)
        else: state = {}
        alive = sum(w.get("state") == "ALIVE" for w in state.get("workers", []))
        if alive != N_WORKERS:
            logs = "\n".join(f"--- {f.name}\n" + f.read_text(errors="replace")[-2000:] for f in sorted(d.glob("*.log")))
            pytest.fail(f"the standalone cluster did not come up ({alive} of {N_WORKERS} workers alive):\n{logs}")
        yield url, ui
    finally:
        stop(procs)


def test_cluster_binds_localhost_only(cluster):
    url, ui = cluster
    state = master_state(ui)
    assert state["url"] == url
    assert sorted(w["host"] for w in state["workers"]) == ["127.0.0.1"] * N_WORKERS
    assert [w["cores"] for w in state["workers"]] == [1] * N_WORKERS


def test_batch_ner_on_standalone_cluster(cluster, tmp_path):
    from nlpbook.batch_ner import _worker_nlp, batch_ner, ner_pipe, read_entities, read_runs, spark_session
    from nlpbook.data import load_ag_news
    url, ui = cluster
    rows = load_ag_news("test").iloc[:40][["class_index", "title", "description"]]
    rows.to_csv(tmp_path / "in.csv", index=False)
    out, log = tmp_path / "out.parquet", tmp_path / "runs.jsonl"
    conf = {"spark.executor.memory": "512m", "spark.executor.cores": "1", "spark.cores.max": str(N_WORKERS)}
    with spark_session(url, app_name="nlpbook-cluster-test", conf=conf) as spark:
        assert spark.sparkContext.master == url
        r = batch_ner(tmp_path / "in.csv", out, engine="spark", spark=spark, run_log=log, progress=False)
        apps = master_state(ui)["activeapps"]
        # the job ran on the cluster: our application holds one core on each of the two workers
        assert [(a["name"], a["cores"]) for a in apps] == [("nlpbook-cluster-test", N_WORKERS)], apps
    assert r["status"] == "succeeded" and r["rows"] == len(rows)
    res = read_entities(out)
    assert res.description.tolist() == rows.description.tolist()          # row order kept across the workers
    want = ner_pipe(rows.description.tolist(), _worker_nlp("en_core_web_sm", False))
    assert res.entities.tolist() == want                                  # nlp.pipe's entities, row by row
    assert read_runs(log).status.tolist() == ["succeeded"]
