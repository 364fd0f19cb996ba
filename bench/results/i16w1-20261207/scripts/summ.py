import re, sys, statistics as S
for path in sys.argv[1:]:
    side=None; d={}
    for ln in open(path):
        m=re.match(r"== round (\d+) (\w+)", ln)
        if m: side=m.group(2); continue
        m=re.match(r"\| W1 \| 2,000,000 \| headrace p=(\d) \| ([\d.]+) \| [\d,]+ \| ([\d.]+) \|", ln)
        if m and side: d.setdefault((side,'p'+m.group(1)),[]).append(float(m.group(3))); d.setdefault((side,'t'+m.group(1)),[]).append(float(m.group(2)))
        m=re.match(r"\| W1 \| 2,000,000 \| baseline \| ([\d.]+)", ln)
        if m and side: d.setdefault((side,'base'),[]).append(float(m.group(1)))
        m=re.match(r"\| W1 \| CPU \| headrace p=2 \| parent ([\d.]+) s \+ workers ([\d.]+) s = ([\d.]+) s \| ([\d.]+)x", ln)
        if m and side: d.setdefault((side,'pcpu'),[]).append(float(m.group(1))); d.setdefault((side,'cpux'),[]).append(float(m.group(4)))
    print(path.split('/')[-1])
    for side in ('before','after'):
        print(f"  {side:6s} p=2 ratios {d.get((side,'p2'))} median {S.median(d[(side,'p2')]):.2f} | p=1 median {S.median(d[(side,'p1')]):.2f} | p=2 s median {S.median(d[(side,'t2')]):.3f} | baseline s median {S.median(d[(side,'base')]):.3f} | p=2 parent CPU median {S.median(d[(side,'pcpu')]):.2f} s | p=2 CPU x loop median {S.median(d[(side,'cpux')]):.2f}")
