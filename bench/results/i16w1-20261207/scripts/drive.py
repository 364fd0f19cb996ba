import os, sys, time, json
SRC = os.environ.get("I16SRC", "/tmp/i16tr/src")
sys.path.insert(0, SRC)
import headrace.engine as engine
from headrace.engine import _trace as T
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
def eng(par, ex="processes"):
    p = Pipeline.create()
    p.read_from(Pipeline.from_text(path)).flat_map(split_words).group_by(word_key).aggregate(counting()).write_to(Pipeline.to_map("counts"))
    prov = InMemoryProvider()
    T.ev("p_run0", par=par)
    engine.run(p, prov, par, executor=ex)
    T.ev("p_run1")
    return len(prov.maps["counts"])
rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 3
eng(2)
T.EV.clear()
out = []
for r in range(rounds):
    t0 = time.perf_counter(); c0 = time.process_time(); base(); tb = time.perf_counter() - t0; cb = time.process_time() - c0
    for par in (1, 2):
        t0 = time.perf_counter(); eng(par); te = time.perf_counter() - t0
        T.dump(f"parent-r{r}-p{par}")
        out.append((r, par, tb, cb, te))
        print(r, par, f"base {tb:.3f} (cpu {cb:.3f}) eng {te:.3f} ratio {tb/te:.3f}", flush=True)
json.dump(out, open(os.environ["I16TRACE"] + "/summary.json", "w"))
