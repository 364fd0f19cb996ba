"""A `headrace worker` that times its garbage collections (gc.callbacks), dumped at exit."""
import gc, sys, os, time, atexit
T0 = time.perf_counter()
g2 = []
stats = {0: [0, 0.0, 0], 1: [0, 0.0, 0], 2: [0, 0.0, 0]}
t = [0.0]
def cb(phase, info):
    if phase == "start":
        t[0] = time.perf_counter()
    else:
        s = stats[info["generation"]]
        if info["generation"] == 2: g2.append((round(t[0]-T0, 2), round((time.perf_counter()-t[0])*1e3, 1)))
        s[0] += 1; s[1] += time.perf_counter() - t[0]; s[2] += info["collected"]
gc.callbacks.append(cb)
th = os.environ.get("GC_THRESHOLD")
if th:
    gc.set_threshold(*map(int, th.split(",")))
def dump():
    with open(f"/tmp/lead/prof/gc-{os.getpid()}.txt", "w") as f:
        for g, (n, secs, col) in stats.items():
            f.write(f"gen{g} n={n} {secs*1e3:.1f} ms collected={col}\n")
        f.write(f"gen2 at (s since start, ms) {g2}\n")
        f.write(f"objects {len(gc.get_objects())} thresholds {gc.get_threshold()}\n")
atexit.register(dump)
from headrace.cli.main import main
sys.argv = ["headrace"] + sys.argv[1:]
main()
