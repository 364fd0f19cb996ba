"""Times W1 p=2's end phases from HR_TRACE marks (run from a worktree with the trace patch)."""
import os, sys, time, statistics
sys.path.insert(0, "/tmp/i16")
sys.argv = ["x"]
import importlib.util
spec = importlib.util.spec_from_file_location("eng", "bench/engine.py")
eng = importlib.util.module_from_spec(spec); spec.loader.exec_module(eng)
from headrace._trace import mark
import headrace.engine as engine
from headrace.connectors.memory import InMemoryProvider
from headrace.pipeline import Pipeline, counting
import analyze
path = eng.gen_w1(2_000_000)
def run(par):
    p = Pipeline.create()
    p.read_from(Pipeline.from_text(path)).flat_map(eng.split_words).group_by(eng.word_key).aggregate(counting()).write_to(Pipeline.to_map("counts"))
    prov = InMemoryProvider()
    mark("run_start")
    engine.run(p, prov, par)
    mark("run_end")
    return prov
import gc
if os.environ.get("NOGC"): gc.disable()
reps = int(os.environ.get("REPS", "3"))
trace = os.environ["HR_TRACE"]
ref = eng.w1_checksum(run(2).maps["counts"].items())  # warm
runs, times = [], []
for i in range(reps):
    open(trace, "w").close()
    t0 = time.perf_counter(); prov = run(2); t = time.perf_counter() - t0
    assert eng.w1_checksum(prov.maps["counts"].items()) == ref
    lines = [l.split(None, 2) for l in open(trace)]
    if os.environ.get("SHOW") == str(i):
        base = float(lines[0][0]); pids = {}
        for ts, pid, name in lines:
            print(f"{float(ts)-base:8.4f} {pids.setdefault(pid, f'P{len(pids)}')} {name.strip()}")
    runs.append(analyze.phases(lines)); times.append(t)
print(f"runs: median {statistics.median(times):.3f}s {[round(x,3) for x in times]}  checksum {ref}")
analyze.summarize(runs)
