import sqlite3, shutil, time, json, statistics, sys
shutil.copy("/tmp/lead/sq/tmpl.db", "/tmp/lead/sq/w.db")
c = sqlite3.connect("/tmp/lead/sq/w.db", isolation_level=None)
c.execute("PRAGMA journal_mode=WAL"); c.execute("PRAGMA synchronous=NORMAL")
ids = [r[0] for r in c.execute("select rowid from jobs order by rowid")]
pos = [0]
W="091532e9b4db4d0cb22cc061d84d1121"
def t(label):
    tot = 0
    i0 = pos[0]
    for i in range(i0, i0+5000, 250):
      for s, lb in (("locked", W), ("completed", W)):
        c.execute("BEGIN IMMEDIATE")
        t0 = time.perf_counter()
        c.execute("UPDATE jobs SET status=?, locked_by=?, finished_at_ms=1 WHERE rowid IN (SELECT value FROM json_each(?))", (s, lb, json.dumps(ids[i:i+250]))).fetchall()
        tot += time.perf_counter() - t0
        c.execute("COMMIT")
    pos[0] += 5000
    return tot/10000*1e6
HELD4 = "('locked', 'running', 'canceling', 'suspending')"
V = {
 "cur": [],
 "held_or": ["DROP INDEX ix_jobs_held", "CREATE INDEX ix_jobs_held ON jobs (locked_by) WHERE status = 'locked' OR status = 'running' OR status = 'canceling' OR status = 'suspending'"],
 "held_none": ["DROP INDEX ix_jobs_held"],
 "name_none": ["DROP INDEX ux_jobs_active_name"],
 "retry_none": ["DROP INDEX ix_jobs_retrying"],
 "claim_none": ["DROP INDEX ix_jobs_claim"],
 "idem_none": ["DROP INDEX ux_jobs_tenant_idempotency"],
 "tname_none": ["DROP INDEX ix_jobs_tenant_name"],
}
orig = dict(c.execute("select name, sql from sqlite_master where type='index' and sql is not null").fetchall())
res = {k: [] for k in V}
for rep in range(int(sys.argv[1])):
    for k, ddls in V.items():
        if pos[0] >= 45000:
            c.execute("UPDATE jobs SET status='waiting', locked_by=NULL"); pos[0] = 0
        for d in ddls: c.execute(d)
        res[k].append(t(k))
        for n, s in orig.items():
            c.execute(f"DROP INDEX IF EXISTS {n}")
        for n, s in orig.items():
            c.execute(s)
for k, v in res.items(): print(f"{k:12s}", f"{statistics.median(v):.2f}", [round(x,2) for x in v])
