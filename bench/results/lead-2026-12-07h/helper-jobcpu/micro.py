"""Per-job CPU of the worker's scheduler path, without a store (begin, take, slot, end, take)."""
import sys, threading, time, gc
sys.path.insert(0, sys.argv[1] + "/src"); sys.path.insert(0, sys.argv[1])
from bench import jobs_noop  # registers
from headrace.model.job import Claimed
from headrace.model import prefetch as prefetching
from headrace.scheduler.attempt import begin
from headrace.scheduler.reports import Reports
from headrace.scheduler.slots import Slots
from headrace.scheduler import registry as reg

registry = reg.default_registry() if hasattr(reg, "default_registry") else None
if registry is None:
    for name in dir(reg):
        obj = getattr(reg, name)
        if isinstance(obj, reg.Registry):
            registry = obj
class FakeAttempts:
    def wait_out_round(self, t): pass
lock = threading.Lock(); kick = threading.Event()
reports = Reports(lock, kick)
slots = Slots({"bench": 50}, prefetching.AUTO, lock, reports, FakeAttempts(), kick.set, threading.Event())
B = 100
def batch(base):
    return [Claimed(f"0000-{base+i}", "default", jobs_noop.TYPE, "bench", 1, {}, {}, 0.0, 0, 0, 0, 0, False) for i in range(B)]
def one(base):
    claimed = batch(base)
    t0 = time.perf_counter()
    ready, writes = begin(claimed, registry, reports, None, "w", 30.0)
    slots.take(ready, writes)
    slots._inbox["bench"].put(None)
    slots._slot("bench")
    w, l = reports.take()
    assert len(w) == B and not slots.running, (len(w), len(slots.running))
    return time.perf_counter() - t0
for i in range(200): one(i * B)
best = []
for r in range(7):
    tot = 0.0
    for i in range(300): tot += one((r * 300 + i) * B)
    best.append(tot / (300 * B) * 1e6)
best.sort()
print(f"us/job median {best[3]:.2f} min {best[0]:.2f}")
