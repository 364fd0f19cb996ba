import json,glob,os,sys
d=sys.argv[1]
ws=[]
for f in glob.glob(d+'/w*.json'):
    for e in json.load(open(f)): ws.append((e[0],e[1],os.path.basename(f)[:2],e[2],e[3]))
for f in sorted(glob.glob(d+'/parent-*p2*')):
    ev=json.load(open(f)); T0=ev[0][0]; T1=ev[-1][0]
    W=[e for e in ws if T0<=e[0]<=T1]
    out=[]
    for tag in ('w0','w1'):
        X=[e for e in W if e[2]==tag]
        g=lambda n,**kw:[e for e in X if e[3]==n and all(e[4].get(k)==v for k,v in kw.items())]
        fin=g('finish0',v=0)[0]; s0=g('send0',kind='p')[0]; s1=[e for e in X if e[3]=='send1' and e[0]>=s0[0]][0]
        rp=g('recv',kind='p')[0]; pm=[e for e in X if e[3]=='partials0' and e[0]>=rp[0]][0]; pm1=[e for e in X if e[3]=='partials1' and e[0]>=pm[0]][0]
        k0=g('sink0')[0]; k1=g('sink1')[0]; dn=g('done_sent')[0]
        out.append(f"{tag}: split {1000*(s0[0]-fin[0]):.0f} send {1000*(s1[0]-s0[0]):.0f} remote-share recv@{rp[0]-T0:.3f} merge {1000*(pm1[0]-pm[0]):.0f} sink {1000*(k1[0]-k0[0]):.0f} src_end@{fin[0]-T0:.3f} done@{dn[0]-T0:.3f}")
    print(os.path.basename(f)[:12], f"end@{T1-T0:.3f}", " | ".join(out))
