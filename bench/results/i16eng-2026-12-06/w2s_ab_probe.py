"""W2S at p=N, none vs exactly_once alternating; also times the barrier (pause..resume) and the commit."""
import os, sys, time, statistics
sys.path.insert(0, os.environ["SRC"])
import headrace.engine as engine
from headrace.connectors.memory import InMemoryProvider, MemorySnapshotStore
from headrace.pipeline import Pipeline, StreamSource
from headrace.engine.executors import processes as P
from headrace.engine import snapshot as S

class RangeStream:
    def __init__(self, n, parts): self.n, self.parts = n, parts
    def partition_count(self): return self.parts
    def end_offset(self, p): return len(range(p, self.n, self.parts))
    def read(self, p, off, mx):
        start = p + off * self.parts; stop = min(self.n, start + mx * self.parts)
        return list(range(start, stop, self.parts))
    def append(self, items): raise TypeError
    def is_closed(self): return True

double = lambda x: x * 2
div3 = lambda x: x % 3 == 0
inc = lambda x: x + 1
T = {}
def wrap(obj, name, label):
    orig = getattr(obj, name)
    def f(*a, **k):
        t = time.perf_counter()
        try: return orig(*a, **k)
        finally: T.setdefault(label, []).append(time.perf_counter() - t)
    setattr(obj, name, f)
PC = getattr(P, "_Parent", None)
if PC is None:
    from headrace.engine.executors.parent import Parent as PC
_cmd = PC._command
def _command(self, name, workers):
    _cmd(self, name, workers)
    now = time.perf_counter()
    if name == "pause":
        T["_paused"] = now
    elif name == "resume":
        T.setdefault("barrier", []).append(now - T.pop("_paused"))
PC._command = _command
wrap(S.Coordinator, "commit", "commit")

def w2s(n, par, g):
    p = Pipeline.create()
    p.read_from(StreamSource("ints")).map(double).filter(div3).map(inc).write_to(Pipeline.to_list("out"))
    prov = InMemoryProvider(streams={"ints": RangeStream(n, par)})
    store = MemorySnapshotStore(prov) if g != "none" else None
    opts = engine.EngineOptions(guarantee=g, snapshot_interval_ms=1000)
    t0 = time.perf_counter()
    engine.run(p, prov, par, options=opts, snapshots=store)
    return time.perf_counter() - t0

n, par, reps = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
w2s(1000, par, "none")
ratios = []; stalls = []
for r in range(reps):
    tn = w2s(n, par, "none"); T.clear()
    te = w2s(n, par, "exactly_once")
    ratios.append(tn / te)
    b = T.get("barrier", []); c = T.get("commit", [])
    stalls.append(sum(b))
    print(f"{os.environ['LABEL']} none {tn:.3f} eo {te:.3f} ratio {tn/te:.3f} barriers {[round(x*1000) for x in b]} ms commits {[round(x*1000) for x in c]} ms", flush=True)
print(f"{os.environ['LABEL']} median ratio {statistics.median(ratios):.3f} median stall per run {1000*statistics.median(stalls):.0f} ms", flush=True)
