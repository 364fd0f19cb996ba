# alternate parent POLL 0.02 / 0.2 within one process (env read at import: so patch module attr)
import os, sys, time, json
sys.path.insert(0, "/tmp/i16tr/src")
import headrace.engine as engine
from headrace.engine import _trace as T
from headrace.engine.executors import parent as P
from headrace.connectors.memory import InMemoryProvider
from headrace.pipeline import Pipeline, counting
path = "/tmp/dfbench-data/w1_text_2000000.txt"
split_words = lambda line: line.split()
word_key = lambda w: w
def eng(par):
    p = Pipeline.create()
    p.read_from(Pipeline.from_text(path)).flat_map(split_words).group_by(word_key).aggregate(counting()).write_to(Pipeline.to_map("counts"))
    prov = InMemoryProvider()
    T.ev("p_run0", par=par)
    engine.run(p, prov, par)
    T.ev("p_run1")
eng(2); T.EV.clear()
for r in range(int(sys.argv[1])):
    for poll in (0.02, 0.2):
        P.POLL_SEC = poll
        t0 = time.perf_counter(); c0 = time.process_time(); eng(2); te = time.perf_counter() - t0
        T.dump(f"parent-r{r}-poll{poll}")
        print(r, poll, f"{te:.3f} parent cpu {time.process_time()-c0:.3f}", flush=True)
