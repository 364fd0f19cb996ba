import multiprocessing as mp, sys, time, pickle, statistics
def sender(q, sw, n):
    sys.setswitchinterval(sw)
    d = {f"w{i}": i for i in range(25000)}
    for _ in range(n):
        time.sleep(0.05)
        blob = pickle.dumps(d)
        t = time.monotonic()
        q.put((t, blob))
        # main thread keeps computing (as a worker merging / emitting its output)
        end = time.monotonic() + 0.05
        x = 0
        while time.monotonic() < end:
            for i in range(1000): x += i
def main():
    ctx = mp.get_context("fork")
    for sw in (0.005, 0.0005):
        q = ctx.Queue()
        p = ctx.Process(target=sender, args=(q, sw, 30)); p.start()
        lat = []
        for _ in range(30):
            t, blob = q.get()
            lat.append((time.monotonic() - t) * 1000)
        p.join()
        print(f"switchinterval {sw}: transfer latency of a {len(blob)//1024} KB message median {statistics.median(lat):.1f} ms, p90 {sorted(lat)[26]:.1f} ms")
main()
