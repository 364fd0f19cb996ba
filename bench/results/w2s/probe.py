"""W2S p=2 probe: wall, parent CPU (user/sys), workers' CPU (user/sys, /proc), parent
phases (snapshot barrier, commit, store commit), gc in the parent; none vs exactly_once
alternated. Usage: PYTHONPATH=<tree>/src:<tree> python probe.py [reps] [n]"""
import gc, os, resource, statistics, sys, time

import bench.engine as be
from headrace.engine.executors import parent as P
from headrace.engine.executors import pool as pools
from headrace.engine import snapshot as S

TICK = os.sysconf("SC_CLK_TCK")
log = []

def wrap(cls, name, label):
    orig = getattr(cls, name)
    def f(self, *a, **k):
        t = time.perf_counter(); c = time.thread_time()
        try:
            return orig(self, *a, **k)
        finally:
            log.append((label, time.perf_counter() - t, time.thread_time() - c))
    setattr(cls, name, f)

wrap(P.Parent, "snapshot", "barrier")
wrap(P.Parent, "_commit", "commit")
wrap(P.Parent, "settle", "settle")
wrap(S.Coordinator, "commit", "coord.commit")
wrap(S.Coordinator, "finish", "finish")

gcs = []
def gccb(phase, info):
    if phase == "start":
        gccb.t = time.perf_counter()
    else:
        gcs.append((info["generation"], time.perf_counter() - gccb.t))
gc.callbacks.append(gccb)

def wcpu(pids):
    u = s = 0
    for pid in pids:
        with open(f"/proc/{pid}/stat") as fh:
            f = fh.read().rsplit(")", 1)[1].split()
        u += int(f[11]); s += int(f[12])
    return u / TICK, s / TICK

def one(n, g):
    kept = pools.idle()
    pids = [p.pid for p in kept.procs] if kept else []
    log.clear(); gcs.clear()
    r0 = resource.getrusage(resource.RUSAGE_SELF); w0 = wcpu(pids)
    el, chk = be.w2s_engine(n, 2, g)
    r1 = resource.getrusage(resource.RUSAGE_SELF); w1 = wcpu(pids)
    ph = {}
    for k, wall, cpu in log:
        a = ph.setdefault(k, [0, 0.0, 0.0]); a[0] += 1; a[1] += wall; a[2] += cpu
    return dict(
        g=g, wall=el,
        pu=r1.ru_utime - r0.ru_utime, ps=r1.ru_stime - r0.ru_stime,
        wu=w1[0] - w0[0], ws=w1[1] - w0[1],
        minflt=r1.ru_minflt - r0.ru_minflt, nvcsw=r1.ru_nvcsw - r0.ru_nvcsw, nivcsw=r1.ru_nivcsw - r0.ru_nivcsw,
        gc=(len(gcs), sum(t for _, t in gcs), sum(1 for x, _ in gcs if x == 2)),
        ph={k: (c, round(w * 1000, 1), round(cp * 1000, 1)) for k, (c, w, cp) in ph.items()},
    )

def main():
    reps = int(sys.argv[1]) if len(sys.argv) > 1 else 5
    n = int(sys.argv[2]) if len(sys.argv) > 2 else 15_000_000
    null = len(sys.argv) > 3 and sys.argv[3] == "null"  # none against none: the noise alone
    be.w2s_engine(1000, 2, "none")
    rows = []
    for i in range(reps):
        for g in (("none", "exactly_once") if i % 2 == 0 else ("exactly_once", "none")):
            r = one(n, "none" if null else g); r["g"] = g; rows.append(r)
            print(f"{g:13s} wall {r['wall']:.3f} parent u{r['pu']:.2f}+s{r['ps']:.2f} workers u{r['wu']:.2f}+s{r['ws']:.2f}"
                  f" minflt {r['minflt']} csw {r['nvcsw']}/{r['nivcsw']} gc {r['gc'][0]} {r['gc'][1]*1000:.1f}ms g2={r['gc'][2]} {r['ph']}", flush=True)
    print("medians:")
    for g in ("none", "exactly_once"):
        rs = [r for r in rows if r["g"] == g]
        med = lambda k: statistics.median(r[k] for r in rs)
        print(f"{g:13s} wall {med('wall'):.3f} parent {statistics.median(r['pu']+r['ps'] for r in rs):.3f} "
              f"(u {med('pu'):.3f} s {med('ps'):.3f}) workers {statistics.median(r['wu']+r['ws'] for r in rs):.3f} "
              f"(u {med('wu'):.3f} s {med('ws'):.3f}) minflt {med('minflt')}")
    ratios = [a["wall"] / b["wall"] for a, b in zip(rows[0::2], rows[1::2])]
    ratios = [x if rows[2*i]["g"] == "none" else 1 / x for i, x in enumerate(ratios)]
    print("pair ratios none/eo:", [round(x, 3) for x in ratios], "median", round(statistics.median(ratios), 3))

main()
