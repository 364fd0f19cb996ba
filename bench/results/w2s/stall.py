"""What the parent and the workers' threads are doing mid-run (W2S p=2): /proc task states."""
import os, sys, threading, time
import bench.engine as be
from headrace.engine.executors import pool as pools

def dump(pids):
    for name, pid in pids:
        for tid in sorted(os.listdir(f"/proc/{pid}/task")):
            base = f"/proc/{pid}/task/{tid}"
            st = open(f"{base}/stat").read().rsplit(")", 1)[1].split()
            try: sc = open(f"{base}/syscall").read().split()[0]
            except Exception: sc = "?"
            wchan = open(f"{base}/wchan").read()
            print(f"   {name} tid {tid} state {st[0]} utime {st[11]} syscall {sc} wchan {wchan}")

g = sys.argv[1] if len(sys.argv) > 1 else "none"
be.w2s_engine(1000, 2, "none")
kept = pools.idle()
pids = [("parent", os.getpid())] + [(f"w{i}", p.pid) for i, p in enumerate(kept.procs[:2])]
def sampler():
    for at in (0.2, 0.6, 0.8):
        time.sleep(at - (time.perf_counter() - t0))
        print(f"t={at}"); dump(pids)
t0 = time.perf_counter()
th = threading.Thread(target=sampler); th.start()
print(be.w2s_engine(15_000_000, 2, g))
th.join()
