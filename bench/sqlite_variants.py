"""What a SQLite worker round costs, statement by statement, on variants of the schema.

    python bench/sqlite_variants.py [--n 10000] [--capacity 50] [--repeat 3] [--variants a,b,...]

The SQLite counterpart of ``bench/pgloop_variants.py``, in one process and without a
second worker, so it times the round itself, not the wait for the write lock: for each
variant a fresh store is made by Headrace (its migrations), N no-op jobs scheduled with
``schedule_many``, the variant's DDL applied, and the jobs drained by Headrace's own round
(``AttemptRepository.pump`` on the driver connection, ``store/sqlite_round.py``): claim up
to C jobs, then each round applies the previous round's merged start+end writes
(``locked -> running -> completed``) and claims again, as a worker at capacity C does.
Each of the round's statements is timed on the connection (CPU, ``time.process_time``):
the fenced UPDATE, the claim, the events' INSERT (an ``executemany`` or one statement), the
COMMIT; ``in lock`` is the wall time
from ``BEGIN IMMEDIATE`` to the end of the COMMIT, which is what two workers serialize on.
Medians over repeats, variants interleaved. Variants:

- ``a``: today's schema;
- ``s0``: ``ix_jobs_tenant`` and ``ix_jobs_tenant_rest`` dropped (what the counts' indexes
  cost a round: no status change of the round writes either, so this should be nothing.
  Before migration 0021 ``s0`` dropped ``ix_jobs_tenant_status``, which every status
  change wrote, and ``sp`` made it partial; 0021 built what they measured);
- ``e0``: ``ix_job_events_job_id`` dropped (each event adds an entry);
- ``m``: only the indexes the queue itself reads (``ix_jobs_claim``, ``ix_jobs_held``,
  the primary keys): what the listings' indexes cost a round;
- ``p2k``: 2,048-byte pages instead of 4,096.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sqlite3
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

_HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = Path(_HERE).parent
sys.path[:] = [p for p in sys.path if os.path.abspath(p or os.curdir) != _HERE]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench import jobs_noop  # noqa: E402

from headrace import Client  # noqa: E402
from headrace.model.status import Status  # noqa: E402
from headrace.model.writes import AttemptWrite  # noqa: E402
from headrace.store.attempts import AttemptRepository  # noqa: E402
from headrace.store.dialects import sqlite_transaction  # noqa: E402

LISTING_INDEXES = (
    "ix_jobs_tenant",
    "ix_jobs_tenant_rest",
    "ix_jobs_retrying",
    "ux_jobs_active_name",
    "ix_jobs_tenant_name",
    "ux_jobs_tenant_idempotency",
    "ix_jobs_tenant_scheduled",
)
VARIANT_DDL: dict[str, list[str]] = {
    "a": [],
    "s0": ["DROP INDEX ix_jobs_tenant", "DROP INDEX ix_jobs_tenant_rest"],
    "e0": ["DROP INDEX ix_job_events_job_id"],
    "m": [f"DROP INDEX {name}" for name in LISTING_INDEXES],
    "p2k": [],
}
WORKER_ID = "7f1e4a52-8d1c-4a61-9c43-1c7d2a9b0e11"
PARTS = ("fenced", "claim", "events", "commit")


class _Rows:
    """A statement's rows (and row count), fetched while it was timed."""

    def __init__(self, rows: list[Any], rowcount: int) -> None:
        self._rows, self.rowcount = rows, rowcount

    def fetchall(self) -> list[Any]:
        return self._rows


class _Timed:
    """The transaction's connection, each statement's CPU added to ``spent`` by kind."""

    def __init__(self, conn: sqlite3.Connection, spent: dict[str, float]) -> None:
        self._conn, self._spent = conn, spent

    def _timed(self, kind: str, call: Any, *args: Any) -> Any:
        t0 = time.process_time()
        try:
            return call(*args)
        finally:
            self._spent[kind] += time.process_time() - t0

    def execute(self, sql: str, params: Any = ()) -> _Rows:
        head = sql.lstrip().upper()
        kind = (
            "claim"
            if head.startswith("WITH")
            else "events"
            if head.startswith("INSERT")
            else "fenced"
        )

        def run() -> _Rows:
            cursor = self._conn.execute(sql, params)
            return _Rows(cursor.fetchall(), cursor.rowcount)

        return self._timed(kind, run)

    def executemany(self, sql: str, rows: Any) -> Any:
        return self._timed("events", self._conn.executemany, sql, rows)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._conn, name)


#: What the current run spent, by part (``_instrument``).
SPENT: dict[str, float] = {}


def _instrument() -> None:
    """Time the driver round's statements and its time in the write lock (``SPENT``), once."""
    spent = SPENT
    enter, leave = sqlite_transaction.Transaction.__enter__, sqlite_transaction.Transaction.__exit__
    started: dict[int, float] = {}

    def timed_enter(self: Any) -> Any:
        started[id(self)] = time.perf_counter()
        return _Timed(enter(self), spent)

    def timed_exit(self: Any, *exc: Any) -> None:
        t0 = time.process_time()
        # ``__exit__`` commits on the real connection: time it as the COMMIT.
        try:
            leave(self, *exc)
        finally:
            spent["commit"] += time.process_time() - t0
            spent["in lock"] += time.perf_counter() - started.pop(id(self))

    sqlite_transaction.Transaction.__enter__ = timed_enter  # type: ignore[method-assign]
    sqlite_transaction.Transaction.__exit__ = timed_exit  # type: ignore[method-assign]


def one_run(variant: str, n: int, capacity: int, tmp: Path) -> dict[str, float]:
    """Per-job microseconds of one drain of ``variant`` (see the module's docstring)."""
    path = tmp / f"{variant}.db"
    if variant == "p2k":
        with sqlite3.connect(path) as conn:  # before the first table: the file's page size
            conn.execute("PRAGMA page_size=2048")
            conn.execute("VACUUM")
    url = f"sqlite:///{path}"
    with Client(store=url, run_workers=False) as client:
        client.jobs.schedule_many(jobs_noop.TYPE, [{}] * n)
    with sqlite3.connect(path, isolation_level=None) as conn:
        for ddl in VARIANT_DDL[variant]:
            conn.execute(ddl)
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    SPENT.update(dict.fromkeys((*PARTS, "in lock"), 0.0))
    with Client(store=url, run_workers=False) as client:
        repo = AttemptRepository(client.store, WORKER_ID)
        claim = [(jobs_noop.QUEUE, [jobs_noop.TYPE], capacity)]
        writes: list[AttemptWrite] = []
        done = 0
        wall0, cpu0 = time.perf_counter(), time.process_time()
        while True:
            refused, claimed = repo.pump(writes, [], claim, 30.0)
            assert not refused
            done += len(writes)
            if not claimed and not writes:
                break
            values = {"started_at_ms": 1, "progress": 1.0, "state": None, "result": None}
            writes = [
                AttemptWrite(
                    c.job_id,
                    c.tenant_id,
                    c.attempt,
                    (Status.LOCKED, Status.RUNNING, Status.COMPLETED),
                    {**values, "error": None},
                    "completed",
                )
                for c in claimed
            ]
        wall, cpu = time.perf_counter() - wall0, time.process_time() - cpu0
    assert done == n, done
    path.unlink()
    us = {k: v / n * 1e6 for k, v in SPENT.items()}
    return {
        **us,
        "statements": sum(us[p] for p in PARTS),
        "cpu": cpu / n * 1e6,
        "wall": wall / n * 1e6,
    }


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--n", type=int, default=10000)
    p.add_argument("--capacity", type=int, default=50)
    p.add_argument("--repeat", type=int, default=3)
    p.add_argument("--variants", default=",".join(VARIANT_DDL))
    a = p.parse_args()
    variants = [v.strip() for v in a.variants.split(",") if v.strip()]
    tmp = Path(tempfile.mkdtemp(prefix="hr-sqlite-variants-"))
    load0 = os.getloadavg()[0]
    _instrument()
    runs: dict[str, list[dict[str, float]]] = {v: [] for v in variants}
    try:
        for _ in range(a.repeat):
            for v in variants:
                runs[v].append(one_run(v, a.n, a.capacity, tmp))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    load1 = os.getloadavg()[0]
    print(f"n={a.n} capacity={a.capacity} repeat={a.repeat} load {load0:.1f} -> {load1:.1f}")
    print(
        "µs per job (medians); statements and their parts are CPU, 'in lock' and 'wall' wall time"
    )
    cols = (*PARTS, "statements", "in lock", "cpu", "wall")
    print("variant " + "".join(f"{c:>11}" for c in cols))
    for v in variants:
        med = {c: statistics.median(r[c] for r in runs[v]) for c in cols}
        print(f"{v:<8}" + "".join(f"{med[c]:>11.1f}" for c in cols))


if __name__ == "__main__":
    main()
