import glob, sys, statistics
files = glob.glob("/tmp/lead/prof/locks-*.txt")
per = {}
for f in files:
    rows = [tuple(map(float, l.split())) for l in open(f)]
    rows = [r for r in rows if r[2]-r[1] > 0.0008]  # rounds (not tiny writes)
    per[f] = rows
allr = sorted(r for rows in per.values() for r in rows)
t0 = min(r[1] for r in allr); t1 = max(r[2] for r in allr)
span = t1 - t0
held = sum(r[2]-r[1] for r in allr)
gaps = []
last = None
for r in sorted(allr, key=lambda r: r[1]):
    if last is not None and r[1] > last: gaps.append(r[1]-last)
    last = max(last or 0, r[2])
print(f"span {span:.3f}s rounds {len(allr)} held {held/span:.0%} gaps {len(gaps)} sum {sum(gaps)/span:.0%} median {statistics.median(gaps)*1e3:.2f}ms")
for f, rows in per.items():
    wait = sum(r[1]-r[0] for r in rows); hold = sum(r[2]-r[1] for r in rows)
    # outside = time from lock release to next wait start
    out = sum(b[0]-a[2] for a, b in zip(rows, rows[1:]))
    late = []  # for each wait, how long after the lock became free did we get it
    print(f"  {f[-14:]} rounds {len(rows)} wait {wait/span:.0%} hold {hold/span:.0%} outside {out/span:.0%} hold/round {hold/len(rows)*1e3:.2f}ms out/round {out/len(rows)*1e3:.2f}ms")
