"""Replay a worker's round statements on a copy of a 50k-job store; variants by flags."""
import json, sqlite3, sys, time, shutil
from pathlib import Path
src = Path("/tmp/lead/sq/tmpl.db")
B = 250
CLAIM = """WITH candidates AS (SELECT jobs.{key} AS k FROM jobs WHERE jobs.queue = ? AND jobs.status = 'waiting' AND jobs.eta_ms <= ? AND jobs.type IN ('bench.noop') AND jobs.labels IS NULL AND (jobs.placed_on IS NULL OR jobs.placed_on = ? OR jobs.placed_until_ms < ?) ORDER BY jobs.eta_ms, jobs.scheduled_at_ms LIMIT ? OFFSET ?)
 UPDATE jobs SET updated_at_ms=?, locked_by=?, lease_expires_ms=?, attempt=(jobs.attempt + ?), status=?, placed_on=?, placed_until_ms=? WHERE jobs.{key} IN (SELECT k FROM candidates) RETURNING job_id, tenant_id, type, queue, attempt, params, state, progress, timeout_sec, retries, max_retries, retry_delay_sec, resumed, rowid"""
WRITE = """UPDATE jobs SET updated_at_ms=?, started_at_ms=v.started_at_ms, finished_at_ms=?, lease_expires_ms=?, progress=v.progress, status=?, error=v.error, result=v.result, state=v.state FROM (SELECT json_extract(anon_1.value, ?) AS k, json_extract(anon_1.value, ?) AS attempt, json_extract(anon_1.value, ?) AS started_at_ms, json_extract(anon_1.value, ?) AS progress, json_extract(anon_1.value, ?) AS state, json_extract(anon_1.value, ?) AS result, json_extract(anon_1.value, ?) AS error FROM json_each(?) AS anon_1) AS v WHERE jobs.{key} = v.k AND jobs.attempt = v.attempt AND jobs.locked_by = ? AND jobs.status = ? RETURNING job_id, attempt, tenant_id"""
EV = "INSERT INTO job_events (job_id, tenant_id, from_status, to_status, user_id, at_ms, reason, attempt) VALUES (?,?,?,?,?,?,?,?)"
W = "091532e9b4db4d0cb22cc061d84d1121"

def run(variant):
    flags = set(variant.split("."))
    db = Path(f"/tmp/lead/sq/x.db")
    for p in Path("/tmp/lead/sq").glob("x.db*"): p.unlink()
    shutil.copy(src, db)
    conn = sqlite3.connect(db, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL"); conn.execute("PRAGMA synchronous=NORMAL")
    conn.execute("PRAGMA busy_timeout=0"); conn.execute("PRAGMA temp_store=MEMORY")
    conn.execute("PRAGMA wal_autocheckpoint=0")
    if "st" in flags:
        conn.execute("DROP INDEX ix_jobs_tenant_status")
        conn.execute("CREATE INDEX ix_jobs_tenant_status ON jobs (tenant_id, status) WHERE status NOT IN ('locked', 'running')")
    if "noev" in flags:
        conn.execute("DROP INDEX ix_job_events_job_id")
    conn.execute("CREATE TEMP TABLE w (k, a, s, p, st, r, e)")
    key = "rowid" if "rowid" in flags else "job_id"
    claim, write = CLAIM.format(key=key), WRITE.format(key=key)
    t = {"claim": 0.0, "write": 0.0, "events": 0.0, "commit": 0.0}
    pending = []
    at = int(time.time() * 1000)
    done_n = 0
    while True:
        conn.execute("BEGIN IMMEDIATE")
        t0 = time.perf_counter()
        done = []
        if pending:
            kk = 13 if key == "rowid" else 0
            if "wvals" in flags:
                vals = ",".join(["(?,?,?,?,?,?,?)"] * len(pending))
                sql = ("UPDATE jobs SET updated_at_ms=?, started_at_ms=v.column3, finished_at_ms=?, lease_expires_ms=?, progress=v.column4, status=?, error=v.column7, result=v.column6, state=v.column5 FROM (VALUES " + vals + ") AS v WHERE jobs.{key} = v.column1 AND jobs.attempt = v.column2 AND jobs.locked_by = ? AND jobs.status = ? RETURNING job_id, attempt, tenant_id").format(key=key)
                ps = [at, at, None, "completed"]
                for r in pending: ps += [r[kk], r[4], at, 1.0, "{}", "null", None]
                done = conn.execute(sql, ps + [W, "locked"]).fetchall()
            elif "wtemp" in flags:
                conn.executemany("INSERT INTO temp.w VALUES (?,?,?,?,?,?,?)", [(r[kk], r[4], at, 1.0, "{}", "null", None) for r in pending])
                done = conn.execute(("UPDATE jobs SET updated_at_ms=?, started_at_ms=v.s, finished_at_ms=?, lease_expires_ms=?, progress=v.p, status=?, error=v.e, result=v.r, state=v.st FROM temp.w AS v WHERE jobs.{key} = v.k AND jobs.attempt = v.a AND jobs.locked_by = ? AND jobs.status = ? RETURNING job_id, attempt, tenant_id").format(key=key), (at, at, None, "completed", W, "locked")).fetchall()
                conn.execute("DELETE FROM temp.w")
            elif "warrow" in flags:
                rows = json.dumps([[r[kk], r[4], at, 1.0, "{}", "null", None] for r in pending])
                done = conn.execute(("UPDATE jobs SET updated_at_ms=?, started_at_ms=v.s, finished_at_ms=?, lease_expires_ms=?, progress=v.p, status=?, error=v.e, result=v.r, state=v.st FROM (SELECT value->>0 AS k, value->>1 AS a, value->>2 AS s, value->>3 AS p, value->>4 AS st, value->>5 AS r, value->>6 AS e FROM json_each(?)) AS v WHERE jobs.{key} = v.k AND jobs.attempt = v.a AND jobs.locked_by = ? AND jobs.status = ? RETURNING job_id, attempt, tenant_id").format(key=key), (at, at, None, "completed", rows, W, "locked")).fetchall()
            elif "wmin" in flags:
                done = conn.execute("UPDATE jobs SET status='completed', finished_at_ms=? WHERE rowid IN (SELECT value FROM json_each(?)) RETURNING job_id, attempt, tenant_id", (at, json.dumps([r[13] for r in pending]))).fetchall()
            else:
              rows = json.dumps([[r[kk], r[4], at, 1.0, "{}", "null", None] for r in pending])
              done = conn.execute(write, (at, at, None, "completed", "$[0]", "$[1]", "$[2]", "$[3]", "$[4]", "$[5]", "$[6]", rows, W, "locked")).fetchall()
        t1 = time.perf_counter()
        taken = conn.execute(claim, ("bench", at, W, at, B, 0, at, W, at + 30000, 1, "locked", None, None)).fetchall()
        t2 = time.perf_counter()
        ev = []
        for jid, att, ten in done:
            if "ev2" in flags:
                ev.append((jid, ten, "locked", "completed", None, at, "done", att))
            else:
                ev.append((jid, ten, "locked", "running", None, at, "started", att))
                ev.append((jid, ten, "running", "completed", None, at, "done", att))
        ev += [(r[0], r[1], "waiting", "locked", None, at, "claimed", r[4]) for r in taken]
        if ev:
            conn.executemany(EV, ev)
        t3 = time.perf_counter()
        conn.execute("COMMIT")
        t4 = time.perf_counter()
        t["write"] += t1 - t0; t["claim"] += t2 - t1; t["events"] += t3 - t2; t["commit"] += t4 - t3
        done_n += len(done)
        pending = taken
        if not taken and not done:
            break
    tot = sum(t.values())
    print(f"{variant:22s} {tot/done_n*1e6:5.1f} us/job " + " ".join(f"{k}={v/done_n*1e6:.1f}" for k, v in t.items()), flush=True)

if __name__ == "__main__":
    reps = int(sys.argv[1])
    for _ in range(reps):
        for v in sys.argv[2:]:
            run(v)
