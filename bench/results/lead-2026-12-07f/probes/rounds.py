import glob, statistics as st
for f in sorted(glob.glob("/tmp/lead/prof/rounds-*.txt")):
    pid=f.split("-")[-1][:-4]
    R=[tuple(map(float,l.split())) for l in open(f)]
    R=[r for r in R if r[5]>0 or r[4]>0]
    L=[tuple(map(float,l.split())) for l in open(f"/tmp/lead/prof/locks-{pid}.txt")]
    # active window
    a=R[0][0]; b=R[-1][3]
    mid=[r for r in R if r[0]>a+0.3 and r[3]<b-0.3]
    g=[r[1]-r[0] for r in mid]; rnd=[r[2]-r[1] for r in mid]; post=[r[3]-r[2] for r in mid]
    cyc=[mid[i+1][0]-mid[i][0] for i in range(len(mid)-1)]
    Lm=[l for l in L if l[0]>a+0.3 and l[1]<b-0.3]
    lk=[l[1]-l[0] for l in Lm]
    print(pid, "rounds", len(mid), "cycle ms", round(st.median(cyc)*1e3,2), "gather", round(st.median(g)*1e3,2), "round(take+lock wait+sql)", round(st.median(rnd)*1e3,2), "lock held", round(st.median(lk)*1e3,2), "post(begin)", round(st.median(post)*1e3,2), "writes", st.median(r[4] for r in mid), "claimed", st.median(r[5] for r in mid), "idle slots at start", st.median(r[6] for r in mid), "held", st.median(r[7] for r in mid))
for f in sorted(glob.glob("/tmp/lead/prof/stmts-*.txt")):
    R=[tuple(map(float,l.split())) for l in open(f)]
    R=[r for r in R if r[5]==250 and r[6]==250]
    d=lambda i,j: round(st.median(r[j]-r[i] for r in R)*1e6/250,1)
    print(f[-9:], "n", len(R), "µs/job: fenced", d(0,1), "claim", d(1,2), "events", d(2,3), "commit+exit", d(3,4))
import bisect
for f in sorted(glob.glob("/tmp/lead/prof/rounds-*.txt")):
    pid=f.split("-")[-1][:-4]
    R=[tuple(map(float,l.split())) for l in open(f)]
    R=[r for r in R if r[5]==250 and r[4]==250]
    L=sorted(tuple(map(float,l.split())) for l in open(f"/tmp/lead/prof/locks-{pid}.txt"))
    S=[tuple(map(float,l.split())) for l in open(f"/tmp/lead/prof/stmts-{pid}.txt")]
    starts=[l[0] for l in L]; sst=[s[0] for s in S]
    pre=[];post=[];acq=[]
    for r in R:
        i=bisect.bisect_left(starts, r[1])
        if i>=len(L) or L[i][1]>r[2]: continue
        j=bisect.bisect_left(sst, L[i][0])
        if j<len(S): acq.append(S[j][0]-L[i][0])
        pre.append(L[i][0]-r[1]); post.append(r[2]-L[i][1])
    print(pid, "take->lock acquired (params+wait) ms", round(st.median(pre)*1e3,2), "lock->first stmt", round(st.median(acq)*1e3,3), "lock release->round end (claimed_rows)", round(st.median(post)*1e3,2))
for f in sorted(glob.glob("/tmp/lead/prof/rounds-*.txt")):
    R=[tuple(map(float,l.split())) for l in open(f)]
    gaps=[R[i+1][0]-R[i][3] for i in range(len(R)-1) if R[i][5]==250]
    print(f[-9:], "between rounds (post end -> next round start) ms", round(st.median(gaps)*1e3,2))
for f in sorted(glob.glob("/tmp/lead/prof/rounds-*.txt")):
    pid=f.split("-")[-1][:-4]
    R=[tuple(map(float,l.split())) for l in open(f)]
    Q=sorted(float(x) for x in open(f"/tmp/lead/prof/queues-{pid}.txt").read().split())
    work=[];lat=[];first=[]
    for i in range(len(R)-1):
        if R[i][5]!=250: continue
        a,b=R[i][3],R[i+1][0]
        j=bisect.bisect_left(Q,a); k=bisect.bisect_left(Q,b)
        if k>j:
            first.append(Q[j]-a); work.append(Q[k-1]-a); lat.append(b-Q[k-1])
    print(pid, "after post: first end ms", round(st.median(first)*1e3,2), "last end ms", round(st.median(work)*1e3,2), "last end -> next round ms", round(st.median(lat)*1e3,2))
