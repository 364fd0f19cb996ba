#!/bin/bash
# Profile a 2-worker drain of N jobs with py-spy on worker 1.
set -e
N=${N:-100000}
D=/tmp/lead/prof; rm -rf $D; mkdir -p $D
cd /work/main
cat > $D/mk.py <<PY
import sys; sys.path.insert(0, "/work/main")
from bench import jobs_noop
from headrace import Client
with Client(store="sqlite:///$D/q.db", run_workers=False) as c:
    c.jobs.schedule_many(jobs_noop.TYPE, [{}] * $N)
PY
PYTHONPATH=src .venv/bin/python $D/mk.py
W="-m headrace worker --store sqlite:///$D/q.db --queues bench=50 --import bench.jobs_noop --prefetch auto"
PYTHONPATH=src:. .venv/bin/python $W > $D/w1.log 2>&1 &
P1=$!
PYTHONPATH=src:. .venv/bin/python $W > $D/w2.log 2>&1 &
P2=$!
sleep 1.2
/tmp/lead/spyenv/py_spy-0.4.3.data/scripts/py-spy record -p $P1 -r ${RATE:-200} -d ${DUR:-3} -f raw ${SPYFLAGS} -o $D/w1.txt --threads --nonblocking > $D/spy.log 2>&1 || true
kill $P1 $P2; wait 2>/dev/null || true
sqlite3 $D/q.db "select status, count(*) from jobs group by status" 2>/dev/null || PYTHONPATH=src .venv/bin/python -c "import sqlite3;print(sqlite3.connect('$D/q.db').execute('select status,count(*) from jobs group by status').fetchall())"
