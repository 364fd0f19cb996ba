"""Python cost of a worker's job path without SQL: claim rows -> begin -> slot -> end -> take -> params."""
import sys, time, tempfile, statistics, cProfile, pstats, os
sys.path.insert(0, os.getcwd())
from bench import jobs_noop  # registers
from headrace.model.job import Claimed
from headrace.store.database import Store
from headrace.scheduler.worker import Worker
from headrace.scheduler.registry import Registry
from headrace.scheduler import registry as reg
from headrace.store import write_shapes
from headrace.model import ids

N = 250
store = Store(f"sqlite:///{tempfile.mkdtemp()}/m.db")
from headrace import Client
url = str(store.engine.url); store.close()
c = Client(store=url, run_workers=False); c.close()
store = Store(url)
w = Worker(store, reg.DEFAULT, {"bench": 50})
def rows():
    return [Claimed(ids.new_id(), "00000000-0000-0000-0000-000000000000", jobs_noop.TYPE, "bench", 1, None, {}, 0.0, 0, 0, 0, 0, False) for _ in range(N)]
def one_round():
    cl = rows()
    t0 = time.perf_counter()
    w._begin(cl)
    t1 = time.perf_counter()
    w._inbox["bench"].put(None)
    w._slot("bench")
    t2 = time.perf_counter()
    writes, logs = w.reports.take()
    shape = write_shapes.one_shape(writes)
    p = w.attempts._rows_params(writes, *shape)
    t3 = time.perf_counter()
    return t1 - t0, t2 - t1, t3 - t2
for _ in range(5): one_round()
R = [one_round() for _ in range(40)]
print("µs/job  begin %.2f  slot %.2f  take+params %.2f" % tuple(statistics.median(r[i] for r in R) / N * 1e6 for i in range(3)))
if len(sys.argv) > 1:
    pr = cProfile.Profile(); pr.enable()
    for _ in range(40): one_round()
    pr.disable(); pstats.Stats(pr).sort_stats("tottime").print_stats(25)
import threading
def threaded_round(nthreads):
    cl = rows()
    w._begin(cl)
    t1 = time.perf_counter()
    ths=[threading.Thread(target=w._slot, args=("bench",)) for _ in range(nthreads)]
    for _ in range(nthreads): w._inbox["bench"].put(None)
    for t in ths: t.start()
    for t in ths: t.join()
    t2 = time.perf_counter()
    w.reports.take()
    return t2 - t1
def threaded_round2(nthreads):
    # threads already waiting in inbox.get before the claim arrives (as in a worker)
    ths=[threading.Thread(target=w._slot, args=("bench",)) for _ in range(nthreads)]
    for t in ths: t.start()
    time.sleep(0.01)
    cl = rows()
    t1 = time.perf_counter()
    w._begin(cl)
    for _ in range(nthreads): w._inbox["bench"].put(None)
    for t in ths: t.join()
    t2 = time.perf_counter()
    w.reports.take()
    return t2 - t1
for n in (1, 8, 50):
    print(n, "threads (started after): µs/job", round(statistics.median(threaded_round(n) for _ in range(30))/N*1e6, 2),
          " waiting threads (begin incl.): µs/job", round(statistics.median(threaded_round2(n) for _ in range(30))/N*1e6, 2))
