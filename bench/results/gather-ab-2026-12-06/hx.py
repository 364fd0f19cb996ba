"""Differential: harness-style jobs (params, record file) vs no-op jobs, same drain measurement."""
import os, subprocess, sys, time, statistics, psycopg
sys.path.insert(0, os.getcwd()); sys.path.insert(0, "/work/main")
os.environ.setdefault("QB_STATE", "/tmp/lead/hx/state"); os.makedirs("/tmp/lead/hx/state", exist_ok=True)
from headrace import Client
import headrace_jobs
from bench import jobs_noop
N = int(sys.argv[1]) if len(sys.argv) > 1 else 10000
ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"
def fresh(db):
    with psycopg.connect(ADMIN, autocommit=True) as c:
        c.execute(f"DROP DATABASE IF EXISTS {db} WITH (FORCE)"); c.execute(f"CREATE DATABASE {db}")
    return f"postgresql://postgres@127.0.0.1:5432/{db}"
def run(kind):
    sq = os.environ.get("HX_STORE") == "sqlite"
    if sq:
        for suf in ("", "-wal", "-shm"):
            if os.path.exists("/tmp/lead/hx/hx.db" + suf): os.remove("/tmp/lead/hx/hx.db" + suf)
        url = "sqlite:////tmp/lead/hx/hx.db"
    else:
        url = fresh("hx_lead")
    with Client(store=url, run_workers=False) as c:
        if kind == "harness":
            t, q, mod = headrace_jobs.NOOP, headrace_jobs.QUEUE, "headrace_jobs"
            for i in range(0, N, 1000):
                c.jobs.schedule_many(t, [{"enq": float(j)} for j in range(i, min(N, i+1000))])
        elif kind == "params":
            import hx_jobs
            t, q, mod = "hx.params", "hx", "hx_jobs"
            for i in range(0, N, 1000):
                c.jobs.schedule_many(t, [{"enq": float(j)} for j in range(i, min(N, i+1000))])
        elif kind == "record-si":
            import hx_jobs
            t, q, mod = "hx.record", "hx", "hx_jobs_si"
            c.jobs.schedule_many(t, [None] * N)
        elif kind == "sleep1":
            t, q, mod = headrace_jobs.SLEEP1, headrace_jobs.QUEUE, "headrace_jobs"
            for i in range(0, N, 1000):
                c.jobs.schedule_many(t, [{"enq": float(j)} for j in range(i, min(N, i+1000))])
        elif kind == "record":
            import hx_jobs
            t, q, mod = "hx.record", "hx", "hx_jobs"
            c.jobs.schedule_many(t, [None] * N)
        else:
            t, q, mod = jobs_noop.TYPE, jobs_noop.QUEUE, "bench.jobs_noop"
            c.jobs.schedule_many(t, [None] * N)
        env = dict(os.environ, PYTHONPATH=os.environ.get("SRC", "/work/main/src") + ":" + os.getcwd() + ":/work/main", QB_OUT="/tmp/lead/hx/state/records.txt")
        cmd = [sys.executable, "-m", "headrace", "worker", "--store", url, "--queues", f"{q}=8", "--import", mod]
        ps = [subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True) for _ in range(2)]
        def commits():
            if sq: return 0
            with psycopg.connect(url, autocommit=True) as k:
                return k.execute("select xact_commit from pg_stat_database where datname='hx_lead'").fetchone()[0]
        x0 = commits()
        while c.jobs.list(status="completed").total < N: time.sleep(0.1)
        for p in ps: p.terminate()
        for p in ps: p.wait()
        time.sleep(0.5)
        print(kind, "commits/job", round((commits() - x0) / N, 3), flush=True)
    if sq:
        import sqlite3
        a, b = sqlite3.connect("/tmp/lead/hx/hx.db").execute("select min(started_at_ms), max(finished_at_ms) from jobs").fetchone()
    else:
      with psycopg.connect(url) as conn:
        a, b = conn.execute("select min(started_at_ms), max(finished_at_ms) from jobs").fetchone()
    return N / ((b - a) / 1000)
res = {}
for r in range(3):
    for k in sys.argv[2].split(","):
        res.setdefault(k, []).append(run(k)); print(k, round(res[k][-1]), os.getloadavg()[0], flush=True)
print({k: round(statistics.median(v)) for k, v in res.items()})
