import sys, time, statistics
sys.path[:0] = ["/work/main/src", "/work/main"]
import bench.engine as be
from headrace.engine.executors import parent as P
log = []
def wrap(cls, name):
    orig = getattr(cls, name)
    def f(self, *a, **k):
        t = time.perf_counter(); r = orig(self, *a, **k); log.append((name, time.perf_counter() - t)); return r
    setattr(cls, name, f)
for n in ("snapshot", "_commit", "settle"):
    wrap(P.Parent, n)
orig_run = P.Parent.run
def run(self):
    t = time.perf_counter(); r = orig_run(self); log.append(("run", time.perf_counter() - t)); return r
P.Parent.run = run
be.w2s_engine(1000, 2, "none")
for rep in range(4):
    for g in ("none", "exactly_once"):
        log.clear()
        el, _ = be.w2s_engine(15_000_000, 2, g)
        agg = {}
        for k, v in log: agg.setdefault(k, []).append(v)
        print(g, round(el, 3), {k: [round(x*1000, 1) for x in v] for k, v in agg.items()})
