import sys, time
from itertools import repeat, compress
from operator import mod, not_
from collections import Counter
lines = open("/tmp/dfbench-data/w1_text_2000000.txt").read().splitlines()[:300000]
a = Counter(); Counter.update(a, (w for l in lines for w in l.split()))
keys = list(a)
def t(name, f, n=30):
    best = 1e9
    for _ in range(n):
        t0 = time.perf_counter(); f(); best = min(best, time.perf_counter() - t0)
    print(f"{name}: {best*1000:.2f} ms")
n = 2
t("comprehension", lambda: [hash(k) % n for k in a])
t("map mod", lambda: list(map(mod, map(hash, a), repeat(n))))
owner = list(map(mod, map(hash, a), repeat(n)))
assert owner == [hash(k) % n for k in a]
t("compress x2", lambda: [dict(compress(a.items(), map(not_, owner))), dict(compress(a.items(), owner))])
t("dict copy", lambda: dict(a))
print(len(a))
