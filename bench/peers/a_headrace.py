"""Headrace in the queue peer harness: ``headrace-pg`` and ``headrace-sqlite``.

Copied with ``headrace_jobs.py`` into a copy of the harness by ``bench/peers/run.sh``,
which also registers the two systems in its ``bench.py``.

- Store: ``headrace-pg`` uses the harness's PostgreSQL database (``common.PG_DSN``,
  dropped and recreated by ``common.reset_pg`` for every phase); ``headrace-sqlite`` a
  SQLite file in the harness's state folder (``common.STATE``), deleted for every phase.
  ``reset`` then opens a client once, which creates the schema (migrations), so the
  workers never race to create it.
- Enqueue: ``headrace.Client(store=URL, run_workers=False)``; ``jobs.schedule`` one by
  one, ``jobs.schedule_many`` in chunks of ``common.BULK_CHUNK`` for bulk (one transaction
  per chunk).  ``open`` stores the two job types (a one-off catalog write per client, like
  the connection the other adapters open there), so the timed loop is the per-job cost.
- Workers: 2 processes ``python -m headrace worker --store URL --queues qb=C --import
  headrace_jobs``: each process runs up to C jobs at once (threads).  The Python is
  ``$HR_PYTHON`` (the venv where headrace is installed; run.sh sets it), else the
  harness's own.  Stock settings otherwise (lease 30 s, renewal, retries, events), but
  ``$HR_PREFETCH`` (default ``auto``, the worker's own default) is passed as
  ``--prefetch``: ``HR_PREFETCH=32`` at C=8 is what Celery does by default (prefetch
  multiplier 4); ``HR_PREFETCH=0`` claims only what free slots take.
"""

from __future__ import annotations

import contextlib
import os
import sys

import common
import headrace_jobs
from adapters import SyncAdapter

from headrace import Client

SQLITE_DB = os.path.join(common.STATE, "headrace.db")
PYTHON = os.environ.get("HR_PYTHON") or sys.executable


class Adapter(SyncAdapter):
    has_bulk = True  # jobs.schedule_many

    def __init__(self, store: str = "pg") -> None:
        if store not in ("pg", "sqlite"):
            raise ValueError(f"store must be pg or sqlite, not {store!r}")
        self.kind = store
        self.url = common.PG_DSN if store == "pg" else f"sqlite:///{SQLITE_DB}"
        self.client: Client | None = None

    def reset(self) -> None:
        if self.kind == "pg":
            common.reset_pg()
        else:
            os.makedirs(common.STATE, exist_ok=True)
            for suffix in ("", "-wal", "-shm", "-journal"):
                with contextlib.suppress(FileNotFoundError):
                    os.remove(SQLITE_DB + suffix)
        with Client(store=self.url, run_workers=False) as client:  # creates the schema
            for type_id in headrace_jobs.TYPES.values():
                client.jobs.job_type(type_id)

    def open(self) -> None:
        self.client = Client(store=self.url, run_workers=False)
        for type_id in headrace_jobs.TYPES.values():
            self.client.jobs.job_type(type_id)

    def close(self) -> None:
        if self.client is not None:
            self.client.close()
            self.client = None

    def send(self, job: str, enq: float) -> None:
        assert self.client is not None
        self.client.jobs.schedule(headrace_jobs.TYPES[job], {"enq": enq})

    def send_many(self, job: str, enqs: list[float]) -> None:
        assert self.client is not None
        type_id = headrace_jobs.TYPES[job]
        for part in common.chunks(enqs):
            self.client.jobs.schedule_many(type_id, [{"enq": e} for e in part])

    def worker_cmds(self, conc: int) -> list[list[str]]:
        cmd = [
            PYTHON, "-m", "headrace", "worker", "--store", self.url,
            "--queues", f"{headrace_jobs.QUEUE}={conc}", "--import", "headrace_jobs",
            "--prefetch", os.environ.get("HR_PREFETCH", "auto"),
        ]  # fmt: skip
        return [cmd, list(cmd)]
