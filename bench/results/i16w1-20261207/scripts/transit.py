import json,glob,os,sys
d=sys.argv[1]
ws=[]
for f in glob.glob(d+'/w*.json'):
    for e in json.load(open(f)): ws.append((e[0],e[1],os.path.basename(f)[:2],e[2],e[3]))
for f in sorted(glob.glob(d+'/parent-*p2*')):
    ev=json.load(open(f)); T0=ev[0][0]; T1=ev[-1][0]
    W=[e for e in ws if T0<=e[0]<=T1]
    res=[]
    for a,b in (('w0','w1'),('w1','w0')):
        A=[e for e in W if e[2]==a]; B=[e for e in W if e[2]==b]
        s0=[e for e in A if e[3]=='send0' and e[4]['kind']=='p'][0]; s1=[e for e in A if e[3]=='send1' and e[0]>=s0[0]][0]
        rp=[e for e in B if e[3]=='recv' and e[4]['kind']=='p'][0]
        # was B busy? last B event before rp that isn't a wait
        busy=max([e[0] for e in B if e[0]<rp[0] and e[3] in ('finish1','send1','partials_emitted')] or [0])
        res.append(f"{a}->{b} sent@{s1[0]-T0:.3f} recv@{rp[0]-T0:.3f} transit {1000*(rp[0]-max(s1[0],busy)):.0f} ms (from max(sent, receiver free))")
    # parent: last sink output of each worker vs worker sink1
    print(os.path.basename(f)[:16], f"wall {T1-T0:.3f}", " | ".join(res))
