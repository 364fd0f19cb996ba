import os, sys, time, resource
sys.path[:0] = ["/work/main", "/work/main/src"]
from bench.engine import gen_w1, w1_engine

def kids():
    me = os.getpid(); out = {}
    for d in os.listdir('/proc'):
        if not d.isdigit(): continue
        try:
            st = open(f'/proc/{d}/status').read()
        except OSError:
            continue
        f = dict(l.split(':\t', 1) for l in st.splitlines() if ':\t' in l)
        out[int(d)] = (int(f.get('PPid', '0')), int(f.get('voluntary_ctxt_switches', '0')), int(f.get('nonvoluntary_ctxt_switches', '0')))
    # descendants of me
    desc = set(); frontier = {me}
    while frontier:
        nxt = {p for p, v in out.items() if v[0] in frontier} - desc
        desc |= nxt; frontier = nxt
    return {p: out[p] for p in desc}, out[me]

path = gen_w1(2_000_000)
w1_engine(path, 2)
for _ in range(3):
    k0, m0 = kids(); t = time.perf_counter()
    w1_engine(path, 2)
    w = time.perf_counter() - t
    k1, m1 = kids()
    vol = sum(k1[p][1] - k0[p][1] for p in k1 if p in k0); inv = sum(k1[p][2] - k0[p][2] for p in k1 if p in k0)
    print(f"p=2 wall {w:.2f}s; children voluntary {vol}, involuntary {inv}; parent vol {m1[1]-m0[1]} invol {m1[2]-m0[2]}")
