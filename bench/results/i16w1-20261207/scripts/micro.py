import sys, time, pickle
sys.path.insert(0, "/work/wt/i16w1/src")
from collections import Counter
from operator import add
from headrace.engine.owners import Owners
lines = open("/tmp/dfbench-data/w1_text_2000000.txt").read().splitlines()
a = Counter(); Counter.update(a, (w for l in lines[:1000000] for w in l.split()))
b = Counter(); Counter.update(b, (w for l in lines[1000000:] for w in l.split()))
print(len(a), len(b))
def t(name, f, n=20):
    best = 1e9
    for _ in range(n):
        t0 = time.perf_counter(); f(); best = min(best, time.perf_counter() - t0)
    print(f"{name}: {best*1000:.2f} ms")
t("owners.split 50k", lambda: Owners(2, remember=False).split(a))
sa = Owners(2, remember=False).split(a); sb = Owners(2, remember=False).split(b)
t("pickle share", lambda: pickle.dumps(sa[1], 5))
blob = pickle.dumps(sa[1], 5)
t("unpickle share", lambda: pickle.loads(blob))
def loop_merge(state, partials):
    get = state.get
    for k, acc in partials.items():
        s = get(k, None)
        state[k] = acc if s is None else s + acc
    return state
def map_merge(state, partials):
    common = partials.keys() & state.keys()
    summed = list(map(add, map(state.__getitem__, common), map(partials.__getitem__, common)))
    state.update(partials)
    state.update(zip(common, summed))
    return state
t("loop merge", lambda: loop_merge(dict(sa[1]), sb[1]))
t("map merge", lambda: map_merge(dict(sa[1]), sb[1]))
t("copy only", lambda: dict(sa[1]))
x = loop_merge(dict(sa[1]), sb[1]); y = map_merge(dict(sa[1]), sb[1]); assert x == y and list(x) == list(y)
from operator import add as opadd
def loop_merge_op(state, partials, combine=opadd):
    get = state.get; M = object()
    for k, acc in partials.items():
        old = get(k, M)
        state[k] = acc if old is M else combine(old, acc)
    return state
def counter_like(state, partials):
    get = state.get
    for k, acc in partials.items():
        state[k] = get(k, 0) + acc
    return state
t("engine-style merge (operator.add)", lambda: loop_merge_op(dict(sa[1]), sb[1]))
t("get(k,0)+acc merge", lambda: counter_like(dict(sa[1]), sb[1]))
