import json,glob,os,sys,statistics as S
d=sys.argv[1]
ws=[]
for f in glob.glob(d+'/w*.json'):
    for e in json.load(open(f)): ws.append((e[0],e[1],os.path.basename(f)[:2],e[2],e[3]))
rows=[]
for f in sorted(glob.glob(d+'/parent-*')):
    ev=json.load(open(f)); T0=ev[0][0]; T1=ev[-1][0]; par=ev[0][3].get('par',2)
    W=[e for e in ws if T0<=e[0]<=T1]
    info=[]
    for tag in sorted({e[2] for e in W}):
        X=[e for e in W if e[2]==tag]
        st=[e for e in X if e[3]=='start_msg'][0]; se=[e for e in X if e[3]=='finish0' and e[4]['v']==0][0]
        dn=[e for e in X if e[3]=='done_sent'][0]
        info.append(dict(start=st[0]-T0, se=se[0]-T0, off=(se[0]-st[0])-(se[1]-st[1]), cpu_read=se[1]-st[1], cpu=dn[1]-st[1], done=dn[0]-T0))
    last=max(i['se'] for i in info); first=min(i['se'] for i in info)
    r=dict(name=os.path.basename(f)[7:12], par=par, wall=T1-T0, pcpu=ev[-1][1]-ev[0][1],
      wcpu=sum(i['cpu'] for i in info), read_cpu=sum(i['cpu_read'] for i in info), off=S.mean(i['off'] for i in info),
      gap=last-first, end=T1-T0-last, start=max(i['start'] for i in info))
    rows.append(r)
    print(f"{r['name']} p={par} wall {r['wall']:.3f} | workers cpu {r['wcpu']:.3f} (reading {r['read_cpu']:.3f}) parent cpu {r['pcpu']:.3f} | start {r['start']*1000:.0f} ms | off-cpu while reading {r['off']*1000:.0f} ms/worker | src_end gap {r['gap']*1000:.0f} ms | last src_end -> parent done {r['end']*1000:.0f} ms | wall - workers cpu/p {1000*(r['wall']-r['wcpu']/par):.0f} ms")
