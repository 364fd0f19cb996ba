"""Where the commit's time goes: encode, store.commit (apply_writes), held items per commit."""
import sys, time
import bench.engine as be
from headrace.engine import snapshot as S
from headrace.connectors import memory as M

log = []
def wrap(mod, name, label, sizer=None):
    orig = getattr(mod, name)
    def f(*a, **k):
        extra = sizer(*a, **k) if sizer else None
        t = time.perf_counter()
        try:
            return orig(*a, **k)
        finally:
            log.append((label, round((time.perf_counter() - t) * 1000, 1), extra))
    setattr(mod, name, f)

wrap(S, "encode", "encode")
wrap(M, "apply_writes", "apply", lambda p, w: [len(x.items) for x in w])
wrap(M.MemorySnapshotStore, "commit", "store.commit")
wrap(S.WriteBuffer, "drain", "drain")
be.w2s_engine(1000, 2, "none")
for i in range(4):
    log.clear()
    el, _ = be.w2s_engine(15_000_000, 2, "exactly_once")
    print(round(el, 3), log)
