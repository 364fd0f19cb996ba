"""W2S p=2 timeline in the parent: barrier, commit, workers' Done, end (ms from run start)."""
import time
import bench.engine as be
from headrace import engine
from headrace.engine.executors import parent as P
from headrace.engine.executors import messages as m

ev = []
T0 = [0.0]
def now(): return round((time.perf_counter() - T0[0]) * 1000)
def wrap(cls, name):
    orig = getattr(cls, name)
    def f(self, *a, **k):
        ev.append((name + "<", now()))
        r = orig(self, *a, **k)
        ev.append((name + ">", now()))
        return r
    setattr(cls, name, f)
wrap(P.Parent, "snapshot"); wrap(P.Parent, "_commit")
orig_recv = P.Parent.receive
first = [None]
def recv(self):
    return orig_recv(self)
orig_ended = P.Parent._ended
def ended(self, d):
    ev.append((f"done{d.worker}", now())); return orig_ended(self, d)
P.Parent._ended = ended
orig_run = engine.run
def run(*a, **k):
    T0[0] = time.perf_counter(); r = orig_run(*a, **k); ev.append(("end", now())); return r
be.engine.run = run
be.w2s_engine(1000, 2, "none")
for i in range(6):
    for g in ("none", "exactly_once"):
        ev.clear()
        el, _ = be.w2s_engine(15_000_000, 2, g)
        print(g, round(el, 3), ev)
