import sqlite3, time, os, uuid, statistics, random
p="/tmp/lead/micro/r.db"
for f in (p, p+"-wal", p+"-shm"):
    if os.path.exists(f): os.remove(f)
c=sqlite3.connect(p, isolation_level=None)
c.execute("pragma journal_mode=wal"); c.execute("pragma synchronous=normal")
c.execute("create table jobs(job_id char(32) primary key, status text, payload text, n int)")
c.execute("create index ix_s on jobs(status)")
base=int(time.time()*1000)
ids=[]
for i in range(100000):
    u=uuid.UUID(int=((base+i//100)<<80)|random.getrandbits(76)|(7<<76)).hex
    ids.append(u)
c.execute("begin"); c.executemany("insert into jobs values(?,?,?,?)", [(u,'w','x'*300,0) for u in ids]); c.execute("commit")
rid={u:r for r,u in c.execute("select rowid, job_id from jobs")}
def run(byrow, start):
    chunk=ids[start:start+250]
    if byrow:
        vals=",".join(["(?)"]*250); args=[rid[u] for u in chunk]
        sql=f"update jobs set status='c', n=n+1 from (values {vals}) v where jobs.rowid=v.column1"
    else:
        vals=",".join(["(?)"]*250); args=chunk
        sql=f"update jobs set status='c', n=n+1 from (values {vals}) v where jobs.job_id=v.column1"
    c.execute("begin immediate"); t=time.perf_counter(); c.execute(sql,args); d=time.perf_counter()-t; c.execute("commit"); return d
T={0:[],1:[]}
for k in range(150):
    for b in (0,1):
        T[b].append(run(b, (k*2+b)*250))
for b in (0,1): print("byrowid" if b else "byjobid", round(statistics.median(T[b])/250*1e6,2), "us/row")
