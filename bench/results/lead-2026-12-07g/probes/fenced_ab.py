"""Fenced UPDATE of a round's writes: JSON text (json_each) against bound VALUES chunks, alternated, one DB."""
import sys, time, tempfile, statistics, uuid, itertools, json
from headrace import Client
from headrace.model.status import Status
from headrace.store.attempts import AttemptRepository
from headrace.store.dialects import sqlite, sqlite_driver
from headrace.store import tables
sys.path.insert(0, ".")
from bench import jobs_noop
N = int(sys.argv[1]) if len(sys.argv) > 1 else 250
TOTAL = 60000
d = tempfile.mkdtemp()
url = f"sqlite:///{d}/f.db"
with Client(store=url, run_workers=False) as c:
    c.jobs.schedule_many(jobs_noop.TYPE, [{}] * TOTAL)
client = Client(store=url, run_workers=False)
repo = AttemptRepository(client.store, str(uuid.uuid4()))
dialect = client.store.engine.dialect
path = (Status.LOCKED, Status.RUNNING, Status.COMPLETED)
names = ("started_at_ms", "progress", "state", "result", "error")
J = tables.jobs
json_stmt = sqlite_driver.compile_statement(dialect, repo._shape_statement(path, names, single=False))
vals = {k: sqlite_driver.compile_statement(dialect, repo._values_statement(path, names, k)) for k in (1,2,4,8,16,32,64,128,256)}
columns = [J.c.job_id, J.c.attempt, *(J.c[n] for n in names)]
conn = client.store._driver_conn if hasattr(client.store, "_driver_conn") else None
import sqlite3
raw = sqlite3.connect(f"{d}/f.db", isolation_level=None)
raw.execute("PRAGMA journal_mode=WAL"); raw.execute("PRAGMA synchronous=NORMAL")
T = {"json": [], "values": [], "padded": []}
P = {"json": [], "values": [], "padded": []}
kinds = itertools.cycle(["json", "values", "padded"])
while True:
    _, claimed = repo.pump([], [], [(jobs_noop.QUEUE, [jobs_noop.TYPE], N)], 30.0)
    if len(claimed) < N:
        break
    kind = next(kinds)
    rows = [(x.job_id, x.attempt, 1, 1.0, None, None, None) for x in claimed]
    t0 = time.perf_counter()
    if kind == "json":
        params = json_stmt.params({"p_at": 5, "v_rows": sqlite.rows_value(dialect, columns, rows)})
        pieces = [(json_stmt.sql, params)]
    elif kind == "padded":
        b = sqlite.bound_rows(dialect, columns, rows)
        k = 1 << (len(b) - 1).bit_length()
        st = vals[k]
        flat = list(itertools.chain.from_iterable(b)) + [None] * (len(columns) * (k - len(b)))
        pieces = [(st.sql, st.params_with_rows({"p_at": 5}, "v", flat))]
    else:
        b = sqlite.bound_rows(dialect, columns, rows)
        pieces = []
        s = 0
        while s < len(b):
            k = min(len(b) - s, 64); k = 1 << (k.bit_length() - 1)
            st = vals[k]
            pieces.append((st.sql, st.params_with_rows({"p_at": 5}, "v", list(itertools.chain.from_iterable(b[s:s+k])))))
            s += k
    t1 = time.perf_counter()
    raw.execute("BEGIN IMMEDIATE")
    t2 = time.perf_counter()
    done = []
    for sql, p in pieces:
        done += raw.execute(sql, p).fetchall()
    t3 = time.perf_counter()
    raw.execute("COMMIT")
    assert len(done) == N, (kind, len(done))
    P[kind].append((t1 - t0) / N * 1e6); T[kind].append((t3 - t2) / N * 1e6)
for k in T:
    print(f"N={N} {k:7s} python µs/row {statistics.median(P[k]):.2f}  statements in lock µs/row {statistics.median(T[k]):.2f}  rounds {len(T[k])}")
