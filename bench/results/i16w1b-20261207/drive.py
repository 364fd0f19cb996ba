"""W1 p=2 timing with per-run worker on-cpu and runqueue-wait (schedstat). usage: drive.py rounds [par]"""
import os, sys, time, statistics, glob
sys.path.insert(0, os.environ["SRC"])
import headrace.engine as engine
from headrace.engine.executors import pool as pools
from headrace.connectors.memory import InMemoryProvider
from headrace.pipeline import Pipeline, counting
path = "/tmp/dfbench-data/w1_text_2000000.txt"
split_words = lambda line: line.split()
word_key = lambda w: w
def base():
    counts = {}
    get = counts.get
    with open(path) as fh:
        for line in fh:
            for w in split_words(line):
                k = word_key(w)
                counts[k] = get(k, 0) + 1
    return len(counts)
def eng(par):
    p = Pipeline.create()
    p.read_from(Pipeline.from_text(path)).flat_map(split_words).group_by(word_key).aggregate(counting()).write_to(Pipeline.to_map("counts"))
    prov = InMemoryProvider()
    engine.run(p, prov, par)
    return len(prov.maps["counts"])
def sched(pids):
    on = wait = 0
    for pid in pids:
        for f in glob.glob(f"/proc/{pid}/task/*/schedstat"):
            try:
                a, b, _ = open(f).read().split()
            except OSError:
                continue
            on += int(a); wait += int(b)
    return on / 1e9, wait / 1e9
rounds = int(sys.argv[1]); par = int(sys.argv[2]) if len(sys.argv) > 2 else 2
eng(par)
rows = []
for r in range(rounds):
    t0 = time.perf_counter(); base(); tb = time.perf_counter() - t0
    pids = [p.pid for p in pools.idle().procs] if par > 1 else [os.getpid()]
    s0 = sched(pids); t0 = time.perf_counter(); eng(par); te = time.perf_counter() - t0; s1 = sched(pids)
    on, wait = s1[0] - s0[0], s1[1] - s0[1]
    idle = (par * te - on - wait) / par
    rows.append((tb / te, te - on / par, wait, on, idle, 2 * tb / on))
    print(f"r{r} base {tb:.3f} p{par} {te:.3f} ratio {tb/te:.3f} excess {1000*(te-on/par):.0f} ms rqwait {1000*wait:.0f} ms idle/worker {1000*idle:.0f} ms oncpu {on:.3f} cpu-bound ratio {par*tb/on:.3f}", flush=True)
med = lambda i: statistics.median(x[i] for x in rows)
print(f"MEDIAN ratio {med(0):.3f} excess {1000*med(1):.0f} ms rqwait {1000*med(2):.0f} ms idle/worker {1000*med(4):.0f} ms oncpu {med(3):.3f}")
