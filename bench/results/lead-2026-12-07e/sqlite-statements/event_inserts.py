import sqlite3, shutil, time, statistics, uuid
shutil.copy("/tmp/lead/sq/tmpl.db", "/tmp/lead/sq/e.db")
c = sqlite3.connect("/tmp/lead/sq/e.db", isolation_level=None)
c.execute("PRAGMA journal_mode=WAL"); c.execute("PRAGMA synchronous=NORMAL")
print(c.execute("select sql from sqlite_master where tbl_name='job_events'").fetchall())
ids = [r[0] for r in c.execute("select job_id from jobs order by rowid")]
ten = c.execute("select tenant_id from jobs limit 1").fetchone()[0]
COLS = "job_id, tenant_id, from_status, to_status, user_id, at_ms, reason, attempt, via"
B = 50
def many(chunk, at):
    c.executemany(f"INSERT INTO job_events ({COLS}) VALUES (?,?,?,?,?,?,?,?,?)",
                  [(j, ten, "waiting", "locked", None, at, "claimed", 1, None) for j in chunk])
def multi(chunk, at):
    ps = []
    for j in chunk: ps += (j, ten, "waiting", "locked", None, at, "claimed", 1, None)
    c.execute(f"INSERT INTO job_events ({COLS}) VALUES " + ",".join(["(?,?,?,?,?,?,?,?,?)"] * len(chunk)), ps)
def shared(chunk, at):
    ps = [ten, "waiting", "locked", at, "claimed"]
    for j in chunk: ps += (j, 1)
    c.execute(f"INSERT INTO job_events ({COLS}) SELECT column1, ?2, ?3, ?4, NULL, ?5, ?6, column2, NULL FROM (VALUES " + ",".join(["(?,?)"] * len(chunk)) + ")",
              ps[:0] + [None] + ps if False else None) if False else None
    sql = f"INSERT INTO job_events ({COLS}) SELECT column1, ?, ?, ?, NULL, ?, ?, column2, NULL FROM (VALUES " + ",".join(["(?,?)"] * len(chunk)) + ")"
    c.execute(sql, ps)
res = {k: [] for k in ("many", "multi", "shared")}
pos = 0
for rep in range(5):
    for name, f in (("many", many), ("multi", multi), ("shared", shared)):
        tot = 0
        for i in range(pos, pos + 10000, B):
            c.execute("BEGIN IMMEDIATE")
            t0 = time.perf_counter()
            f(ids[i:i+B], 123)
            tot += time.perf_counter() - t0
            c.execute("COMMIT")
        pos = (pos + 10000) % 40000
        res[name].append(tot / 10000 * 1e6)
for k, v in res.items(): print(k, f"{statistics.median(v):.2f} us/row", [round(x, 2) for x in v])
