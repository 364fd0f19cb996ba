"""When do the workers stop computing vs when the parent has read their output? p=2.
Samples workers' CPU (/proc) and the parent's received items every 5 ms."""
import os, threading, time
import bench.engine as be
from headrace import engine
from headrace.engine.executors import parent as P, pool as pools
from headrace.engine.executors import messages as m

TICK = os.sysconf("SC_CLK_TCK")
got = [0]
orig_recv = P.Parent.receive
ev = []
T0 = [0.0]
def now(): return round((time.perf_counter() - T0[0]) * 1000)
orig_add = P.DriverSinks.add
def add(self, out):
    got[0] += len(out.items); return orig_add(self, out)
P.DriverSinks.add = add
for name in ("snapshot", "_commit"):
    o = getattr(P.Parent, name)
    def f(self, *a, _o=o, _n=name, **k):
        ev.append((_n + "<", now(), got[0])); r = _o(self, *a, **k); ev.append((_n + ">", now(), got[0])); return r
    setattr(P.Parent, name, f)

def wcpu(pid):
    with open(f"/proc/{pid}/stat") as fh:
        f = fh.read().rsplit(")", 1)[1].split()
    return (int(f[11]) + int(f[12])) / TICK

def run(g):
    kept = pools.idle(); pids = [p.pid for p in kept.procs[:2]]
    samples = []; stop = [False]
    def sampler():
        while not stop[0]:
            samples.append((now(), [wcpu(p) for p in pids], got[0], time.process_time()))
            time.sleep(0.01)
    got[0] = 0; ev.clear()
    T0[0] = time.perf_counter()
    th = threading.Thread(target=sampler); th.start()
    el, _ = be.w2s_engine(15_000_000, 2, g)
    stop[0] = True; th.join()
    last = samples[-1][1]
    ends = []
    for i in range(2):
        t_end = next(t for t, c, _, _ in samples if c[i] >= last[i] - 0.011)
        ends.append(t_end)
    half = next(t for t, _, n, _ in samples if n >= 2_500_000)
    at_end = [n for t, _, n, _ in samples if t >= max(ends)][0]
    pc = samples[-1][3] - samples[0][3]
    print(f"{g:13s} wall {el*1000:.0f} workers end ~{ends} ms; parent had read {at_end/5e6:.0%} of output then; "
          f"parent read half at {half} ms; parent cpu {pc:.2f}; {ev}")

be.w2s_engine(1000, 2, "none")
import sys as _s
if len(_s.argv) == 1:
    for i in range(5):
        for g in ("none", "exactly_once"):
            run(g)

def trace(g):
    kept = pools.idle(); pids = [p.pid for p in kept.procs[:2]]
    samples = []; stop = [False]
    def sampler():
        while not stop[0]:
            samples.append((now(), [wcpu(p) for p in pids], got[0], time.process_time()))
            time.sleep(0.05)
    got[0] = 0
    T0[0] = time.perf_counter()
    th = threading.Thread(target=sampler); th.start()
    be.w2s_engine(15_000_000, 2, g)
    stop[0] = True; th.join()
    c0 = samples[0][3]
    for t, c, n, pc in samples:
        print(f"  {t:5d} ms workers {c[0]:.2f} {c[1]:.2f} parent {pc - c0:.3f} read {n}")
import sys
if len(sys.argv) > 1:
    trace(sys.argv[1])
