#!/bin/bash
set -e
N=${N:-100000}
D=/tmp/lead/prof; mkdir -p $D; rm -f $D/q.db* $D/*.pstats
cd /work/main
cat > $D/mk.py <<PY
import sys; sys.path.insert(0, "/work/main")
from bench import jobs_noop
from headrace import Client
with Client(store="sqlite:///$D/q.db", run_workers=False) as c:
    c.jobs.schedule_many(jobs_noop.TYPE, [{}] * $N)
PY
PYTHONPATH=src .venv/bin/python $D/mk.py
A="worker --store sqlite:///$D/q.db --queues bench=50 --import bench.jobs_noop --prefetch auto"
PYTHONPATH=src:. .venv/bin/python /tmp/lead/profworker.py $A > $D/w1.log 2>&1 &
P1=$!
PYTHONPATH=src:. .venv/bin/python -m headrace $A > $D/w2.log 2>&1 &
P2=$!
for i in $(seq 1 200); do sleep 0.2; n=$(.venv/bin/python -c "import sqlite3;print(sqlite3.connect('$D/q.db').execute(\"select count(*) from jobs where status='completed'\").fetchone()[0])"); [ "$n" -ge "$N" ] && break; done
kill -INT $P1 $P2; wait 2>/dev/null || true
ls -la $D/*.pstats
