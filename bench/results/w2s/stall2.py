import os, subprocess, sys, threading, time
import bench.engine as be
from headrace.engine.executors import pool as pools
g = sys.argv[1] if len(sys.argv) > 1 else "none"
be.w2s_engine(1000, 2, "none")
kept = pools.idle()
res = kept.results
print("results reader fd", res._reader.fileno(), "writer fd", res._writer.fileno())
def tracer():
    time.sleep(0.4)
    subprocess.run(["timeout", "0.3", "strace", "-tt", "-T", "-p", str(os.getpid()), "-e", "trace=poll,read,select,pselect6,ppoll", "-o", "/tmp/w2s_strace.txt"])
th = threading.Thread(target=tracer); th.start()
print(be.w2s_engine(15_000_000, 2, g))
th.join()
