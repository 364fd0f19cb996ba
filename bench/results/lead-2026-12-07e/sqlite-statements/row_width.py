import sqlite3, shutil, time, json
shutil.copy("/tmp/lead/sq/tmpl.db", "/tmp/lead/sq/w.db")
c = sqlite3.connect("/tmp/lead/sq/w.db", isolation_level=None)
c.execute("PRAGMA journal_mode=WAL"); c.execute("PRAGMA synchronous=NORMAL")
print(c.execute("select avg(length(job_id)+length(tenant_id)+length(user_id)+length(type)+length(queue)+length(params)+coalesce(length(definition),0)+length(project)+coalesce(length(labels),0)) from jobs").fetchall())
c.execute("create table hot (id integer primary key, status text, at int, fin int)")
c.execute("insert into hot select rowid, status, 0, 0 from jobs")
c.execute("create table wide_noidx as select * from jobs")
ids = [r[0] for r in c.execute("select rowid from jobs order by rowid")]
def t(sql, label, tbl_ids):
    tot = 0
    for i in range(0, 20000, 250):
        c.execute("BEGIN IMMEDIATE")
        t0 = time.perf_counter()
        c.execute(sql, (i, json.dumps(tbl_ids[i:i+250]))).fetchall()
        tot += time.perf_counter() - t0
        c.execute("COMMIT")
    print(f"{label:30s} {tot/20000*1e6:.2f} us/row")
t("UPDATE jobs SET status='completed', finished_at_ms=? WHERE rowid IN (SELECT value FROM json_each(?))", "wide, indexes", ids)
t("UPDATE wide_noidx SET status='completed', finished_at_ms=? WHERE rowid IN (SELECT value FROM json_each(?))", "wide, no indexes", ids)
t("UPDATE hot SET status='completed', fin=? WHERE id IN (SELECT value FROM json_each(?))", "narrow", ids)
t("UPDATE jobs SET finished_at_ms=? WHERE rowid IN (SELECT value FROM json_each(?))", "wide, indexes, no status", ids[20000:] + ids[:20000])
