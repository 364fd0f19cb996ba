import sqlite3, time, os, uuid, statistics, random, json
p="/tmp/lead/micro/j.db"
for f in (p, p+"-wal", p+"-shm"):
    if os.path.exists(f): os.remove(f)
c=sqlite3.connect(p, isolation_level=None)
c.execute("pragma journal_mode=wal"); c.execute("pragma synchronous=normal")
c.execute("create table jobs(job_id char(32) primary key, attempt int, status text, locked_by text, updated_at_ms int, started_at_ms int, finished_at_ms int, lease_expires_ms int, progress float, error text, result text, state text, tenant_id text, payload text)")
base=int(time.time()*1000)
ids=[uuid.UUID(int=((base+i//100)<<80)|random.getrandbits(76)|(7<<76)).hex for i in range(200000)]
c.execute("begin"); c.executemany("insert into jobs(job_id,attempt,status,locked_by,tenant_id,payload) values(?,1,'locked','w','t',?)", [(u,'x'*200) for u in ids]); c.execute("commit")
N=250
cols=["job_id","attempt","started_at_ms","progress","state","result","error","finished_at_ms"]
sets="updated_at_ms=?, started_at_ms=v.started_at_ms, finished_at_ms=v.finished_at_ms, lease_expires_ms=?, progress=v.progress, status=?, error=v.error, result=v.result, state=v.state"
where="WHERE jobs.job_id = v.job_id AND jobs.attempt = v.attempt AND (jobs.locked_by = ? AND jobs.status = ?) IS 1 RETURNING job_id, attempt, tenant_id"
json_sql=f"UPDATE jobs SET {sets} FROM (SELECT " + ", ".join(f"json_extract(a.value, '$[{i}]') AS {n}" for i,n in enumerate(cols)) + f" FROM json_each(?) AS a) AS v {where}"
def values_sql(n):
    sel=", ".join(f"column{i+1} AS {c_}" for i,c_ in enumerate(cols))
    return f"UPDATE jobs SET {sets} FROM (SELECT {sel} FROM (VALUES " + ", ".join(["(" + ",".join("?"*len(cols)) + ")"]*n) + f")) AS v {where}"
def rows(chunk): return [(u,1,base,1.0,"{}",None,None,base+5) for u in chunk]
def run(kind, start):
    chunk=ids[start:start+N]; R=rows(chunk)
    t0=time.perf_counter()
    if kind=="json":
        args=(base, None, "completed", json.dumps([list(r) for r in R]), "w", "locked")
        t1=time.perf_counter()
        c.execute("begin immediate"); t2=time.perf_counter(); out=c.execute(json_sql, args).fetchall(); t3=time.perf_counter()
    else:
        out=[]
        t1=time.perf_counter()
        c.execute("begin immediate"); t2=time.perf_counter()
        i=0
        while i<N:
            k=min(N-i,64); k=1<<(k.bit_length()-1)
            flat=[x for r in R[i:i+k] for x in r]
            out+=c.execute(values_sql(k), (base, None, "completed", *flat, "w", "locked")).fetchall()
            i+=k
        t3=time.perf_counter()
    c.execute("commit")
    assert len(out)==N, len(out)
    return (t1-t0)/N*1e6, (t3-t2)/N*1e6
T={"json":[],"values":[]}
for k in range(300):
    for kind in ("json","values"):
        T[kind].append(run(kind, (k*2+(kind=="values"))*N))
for kind in T: print(kind, "python µs/row", round(statistics.median(t[0] for t in T[kind]),2), "in-lock stmt µs/row", round(statistics.median(t[1] for t in T[kind]),2))
one_sql=f"UPDATE jobs SET updated_at_ms=?, started_at_ms=?, finished_at_ms=?, lease_expires_ms=?, progress=?, status=?, error=?, result=?, state=? WHERE job_id=? AND attempt=? AND (locked_by = ? AND status = ?) IS 1"
def run_many(start):
    chunk=ids[start:start+N]; R=rows(chunk)
    P=[(base, r[2], r[7], None, r[3], "completed", r[6], r[5], r[4], r[0], r[1], "w", "locked") for r in R]
    c.execute("begin immediate"); t2=time.perf_counter(); cur=c.executemany(one_sql, P); t3=time.perf_counter(); c.execute("commit")
    assert cur.rowcount==N
    return (t3-t2)/N*1e6
M=[run_many(150000+k*N) for k in range(150)]
print("executemany single-row µs/row", round(statistics.median(M),2))
