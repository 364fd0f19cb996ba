import sys,statistics,collections
d=collections.defaultdict(list)
for l in open(sys.argv[1]):
    p=l.split()
    if len(p)==4 and p[2]!='commits/job': d[(p[0],p[1])].append(float(p[2]))
    if len(p)==4 and p[2]=='commits/job': d[(p[0],p[1],'c')].append(float(p[3]))
for k,v in sorted(d.items()): print(k, [round(x,3) for x in v], 'median', round(statistics.median(v),3))
