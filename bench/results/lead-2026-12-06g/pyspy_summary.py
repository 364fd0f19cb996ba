import collections, sys
self_t=collections.Counter(); incl=collections.Counter(); thr=collections.Counter(); total=0; idle=0
for line in open(sys.argv[1]):
    stack, _, n = line.rstrip().rpartition(' ')
    n=int(n); frames=stack.split(';')
    leaf=frames[-1]
    t=frames[0].split(' ')[0][:30]
    if any(k in leaf for k in ('wait (threading','get (queue','_wait_for_tstate_lock','select (','poll (','sleep','acquire')) and 'pump' not in leaf:
        idle+=n; continue
    total+=n
    thr[frames[0][:50]]+=n
    self_t[leaf]+=n
    for f in set(frames[1:]): incl[f]+=n
print('active',total,'idle',idle)
for k,v in thr.most_common(12): print(v,k)
print('--- self')
for k,v in self_t.most_common(35): print(v,k[:160])
print('--- inclusive')
for k,v in incl.most_common(60): print(v,k[:160])
