#!/bin/bash
set -e
N=${N:-100000}
D=${PROFDIR:-/tmp/jobcpu/dr}; mkdir -p $D; rm -f $D/q.db*
cd ${TREE:-/work/main}
cat > $D/mk.py <<PY
import sys; sys.path.insert(0, "${TREE:-/work/main}")
from bench import jobs_noop
from headrace import Client
with Client(store="sqlite:///$D/q.db", run_workers=False) as c:
    c.jobs.schedule_many(jobs_noop.TYPE, [{}] * $N)
PY
PYTHONPATH=src /work/main/.venv/bin/python $D/mk.py
if [ -n "$DROPSQL" ]; then /work/main/.venv/bin/python -c "import sqlite3,sys; c=sqlite3.connect('$D/q.db'); [c.execute(s) for s in sys.argv[1].split(';')]; c.commit()" "$DROPSQL"; fi
cat > $D/run.py <<'PY'
import os, resource, subprocess, sys, time, sqlite3
D, N = sys.argv[1], int(sys.argv[2])
cmd = [sys.executable] + os.environ.get("WRAP", "-m headrace").split() + [ "worker", "--store", f"sqlite:///{D}/q.db", "--queues", os.environ.get("QARG", "bench=50"), "--import", "bench.jobs_noop", "--prefetch", os.environ.get("PREFETCH", "auto")]
env = dict(os.environ, PYTHONPATH=os.environ.get("WPATH", "src:."))
t0 = time.perf_counter()
ps = [subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=None) for _ in range(int(os.environ.get("WORKERS", "2")))]
c = sqlite3.connect(f"{D}/q.db")
while c.execute("select count(*) from jobs where status='completed'").fetchone()[0] < N:
    time.sleep(0.05)
span = c.execute("select (max(finished_at_ms)-min(started_at_ms))/1000.0 from jobs").fetchone()[0]
for p in ps: p.terminate()
for p in ps: p.wait()
ru = resource.getrusage(resource.RUSAGE_CHILDREN)
print(f"rate {N/span:,.0f}/s span {span:.2f}s user {ru.ru_utime:.2f} sys {ru.ru_stime:.2f} vcsw {ru.ru_nvcsw} ivcsw {ru.ru_nivcsw}")
PY
/work/main/.venv/bin/python $D/run.py $D $N
