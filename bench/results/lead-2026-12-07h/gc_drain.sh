#!/bin/bash
N=${N:-100000}
D=/tmp/lead/prof; mkdir -p $D; rm -f $D/q.db* $D/gc-*.txt
cd ${TREE:-/work/main}
sed -i "s/\* [0-9]*)/* $N)/" $D/mk.py
PYTHONPATH=src /work/main/.venv/bin/python $D/mk.py
cat > $D/rungc.py <<'PY'
import os, resource, subprocess, sys, time, sqlite3
D, N = sys.argv[1], int(sys.argv[2])
cmd = [sys.executable, "/tmp/lead/gcworker.py", "worker", "--store", f"sqlite:///{D}/q.db", "--queues", "bench=50", "--import", "bench.jobs_noop", "--prefetch", "auto"]
env = dict(os.environ, PYTHONPATH=os.environ.get("WPATH", "src:."))
ps = [subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL) for _ in range(2)]
c = sqlite3.connect(f"{D}/q.db")
while c.execute("select count(*) from jobs where status='completed'").fetchone()[0] < N:
    time.sleep(0.05)
span = c.execute("select (max(finished_at_ms)-min(started_at_ms))/1000.0 from jobs").fetchone()[0]
for p in ps: p.terminate()
for p in ps: p.wait()
ru = resource.getrusage(resource.RUSAGE_CHILDREN)
print(f"rate {N/span:,.0f}/s span {span:.2f}s user {ru.ru_utime:.2f} sys {ru.ru_stime:.2f}")
PY
/work/main/.venv/bin/python $D/rungc.py $D $N
cat $D/gc-*.txt
