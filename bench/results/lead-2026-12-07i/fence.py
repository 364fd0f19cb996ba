import sqlite3, shutil, time, json, statistics, itertools
W = "aaaaaaaabbbbccccddddeeeeeeeeeeee"
COLS = "job_id, attempt, started_at_ms, progress, state, result, error"
def setup():
    shutil.copy("/tmp/lead/sq/tmpl.db", "/tmp/lead/sq/w.db")
    c = sqlite3.connect("/tmp/lead/sq/w.db", isolation_level=None)
    c.execute("PRAGMA journal_mode=WAL"); c.execute("PRAGMA synchronous=NORMAL")
    c.execute("UPDATE jobs SET status='locked', locked_by=?, attempt=1", (W,))
    ids = [r[0] for r in c.execute("select job_id from jobs order by rowid")]
    return c, ids
JSON_SQL = """UPDATE jobs SET updated_at_ms=?, started_at_ms=v.started_at_ms, finished_at_ms=?, lease_expires_ms=NULL, progress=v.progress, status='completed', error=v.error, result=v.result, state=v.state FROM (SELECT json_extract(value, '$[0]') AS job_id, json_extract(value, '$[1]') AS attempt, json_extract(value, '$[2]') AS started_at_ms, json_extract(value, '$[3]') AS progress, json_extract(value, '$[4]') AS state, json_extract(value, '$[5]') AS result, json_extract(value, '$[6]') AS error FROM json_each(?)) AS v WHERE jobs.job_id = v.job_id AND jobs.attempt = v.attempt AND (jobs.locked_by = ? AND jobs.status = 'locked') IS 1 RETURNING job_id, attempt, tenant_id"""
def values_sql(n):
    vals = ", ".join(["(?, ?, ?, ?, ?, ?, ?)"] * n)
    return f"""UPDATE jobs SET updated_at_ms=?, started_at_ms=v.column3, finished_at_ms=?, lease_expires_ms=NULL, progress=v.column4, status='completed', error=v.column7, result=v.column6, state=v.column5 FROM (VALUES {vals}) AS v WHERE jobs.job_id = v.column1 AND jobs.attempt = v.column2 AND (jobs.locked_by = ? AND jobs.status = 'locked') IS 1 RETURNING job_id, attempt, tenant_id"""
def run(kind, reps=2):
    out = []
    for _ in range(reps):
        c, ids = setup()
        tot = 0; n = 0
        for i in range(0, 20000, 250):
            rows = [(j, 1, 1700000000000, 1.0, "{}", "null", None) for j in ids[i:i+250]]
            c.execute("BEGIN IMMEDIATE")
            t0 = time.perf_counter()
            if kind == "json":
                got = c.execute(JSON_SQL, (1, 2, json.dumps(rows), W)).fetchall()
            else:
                got = []
                s = 0
                while s < len(rows):
                    k = min(len(rows) - s, 64); k = 1 << (k.bit_length() - 1)
                    got += c.execute(values_sql(k), (1, 2, *itertools.chain.from_iterable(rows[s:s+k]), W)).fetchall()
                    s += k
            tot += time.perf_counter() - t0
            c.execute("COMMIT")
            assert len(got) == len(rows), (len(got), len(rows))
            n += len(rows)
        out.append(tot / n * 1e6)
        c.close()
    return out
if __name__ == "__main__":
  res = {"json": [], "values": []}
  for _ in range(3):
    for k in res: res[k] += run(k, 1)
  for k, v in res.items(): print(k, "us/row median", round(statistics.median(v), 2), [round(x, 2) for x in v])
