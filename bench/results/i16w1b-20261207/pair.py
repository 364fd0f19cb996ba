import time, sys, os, multiprocessing as mp
path = "/tmp/dfbench-data/w1_text_2000000.txt"
def base(_=None):
    t0 = time.perf_counter(); c0 = time.process_time()
    counts = {}
    get = counts.get
    with open(path) as fh:
        for line in fh:
            for w in line.split():
                counts[w] = get(w, 0) + 1
    return time.perf_counter() - t0, time.process_time() - c0
if __name__ == "__main__":
    ctx = mp.get_context("fork")
    for r in range(3):
        solo = base()
        with ctx.Pool(2) as p:
            t0 = time.perf_counter(); duo = p.map(base, [0, 1]); tw = time.perf_counter() - t0
        print(f"solo wall {solo[0]:.3f} cpu {solo[1]:.3f} | duo cpu {duo[0][1]:.3f} {duo[1][1]:.3f} wall {tw:.3f} -> inflation {(duo[0][1]+duo[1][1])/2/solo[1]:.3f}", flush=True)
