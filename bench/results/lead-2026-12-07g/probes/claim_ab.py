"""The claim statement in the write lock: chosen jobs found again by job_id (main) against rowid, alternated, one DB."""
import sys, time, tempfile, statistics, uuid, itertools, sqlite3
from headrace import Client
from headrace.store.attempts import AttemptRepository
from headrace.store.dialects import sqlite_driver
sys.path.insert(0, ".")
from bench import jobs_noop
N = int(sys.argv[1]) if len(sys.argv) > 1 else 250
TOTAL = 80000
d = tempfile.mkdtemp()
url = f"sqlite:///{d}/f.db"
with Client(store=url, run_workers=False) as c:
    c.jobs.schedule_many(jobs_noop.TYPE, [{}] * TOTAL)
client = Client(store=url, run_workers=False)
repo = AttemptRepository(client.store, str(uuid.uuid4()))
dialect = client.store.engine.dialect
st = sqlite_driver.compile_statement(dialect, repo.claim_statement(jobs_noop.QUEUE, (jobs_noop.TYPE,)))
rowid_sql = st.sql
assert "jobs.rowid AS row_key" in rowid_sql
key_sql = rowid_sql.replace("jobs.rowid AS row_key", "jobs.job_id AS row_key").replace("WHERE jobs.rowid IN", "WHERE jobs.job_id IN")
raw = sqlite3.connect(f"{d}/f.db", isolation_level=None)
raw.execute("PRAGMA journal_mode=WAL"); raw.execute("PRAGMA synchronous=NORMAL")
T = {"job_id": [], "rowid": []}
kinds = itertools.cycle(T)
while True:
    kind = next(kinds)
    params = st.params({"p_at": 10**13, "p_lease_until": 10**13, "p_limit": N})
    raw.execute("BEGIN IMMEDIATE")
    t0 = time.perf_counter()
    got = raw.execute(rowid_sql if kind == "rowid" else key_sql, params).fetchall()
    t1 = time.perf_counter()
    raw.execute("COMMIT")
    if len(got) < N:
        break
    T[kind].append((t1 - t0) / N * 1e6)
for k in T:
    print(f"N={N} claim by {k:7s} in lock µs/row {statistics.median(T[k]):.2f} rounds {len(T[k])}")
