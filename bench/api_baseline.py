"""The API benchmark's baseline: a minimal FastAPI + SQLAlchemy app on Headrace's own rows.

    python bench/api_baseline.py --store URL --port N

``GET /jobs/{id}`` reads the job's row from Headrace's ``jobs`` table and returns its
columns as JSON; ``POST /jobs`` inserts a ``jobs`` row and a ``job_events`` row (what
Headrace's schedule inserts for a job of a known type), copied from a job Headrace
scheduled in the same database, with a new id and times, in one transaction. No
authentication, no validation beyond the type's presence, no tenancy: the least an
app can do for the same rows. Served by uvicorn with ``headrace server``'s settings
(``headrace.api.server``: log level warning, no access log), one process. On SQLite it
uses Headrace's connection settings (``synchronous=NORMAL``) and one writer at a time.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
import threading
import time
import uuid
from pathlib import Path
from typing import Any

# Run as a script, this folder is sys.path[0], where queue.py would shadow the standard
# library's ``queue``.
HERE = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or os.curdir).resolve() != HERE]

import sqlalchemy as sa  # noqa: E402
import uvicorn  # noqa: E402
from fastapi import FastAPI, HTTPException  # noqa: E402
from pydantic import BaseModel  # noqa: E402


class NewJob(BaseModel):
    """What ``POST /jobs`` takes (the type; the rest comes from the template row)."""

    type: str


def create_app(store_url: str) -> FastAPI:
    """The app over the database at ``store_url``, which holds at least one scheduled job."""
    engine = sa.create_engine(store_url.replace("postgresql://", "postgresql+psycopg://"))
    sqlite = engine.dialect.name == "sqlite"
    if sqlite:

        @sa.event.listens_for(engine, "connect")
        def _pragmas(dbapi_conn: Any, _record: Any) -> None:
            # Headrace's own settings for the file (store/dialects/sqlite.py): WAL is the
            # file's; NORMAL sync is per connection.
            cursor = dbapi_conn.cursor()
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.execute("PRAGMA busy_timeout=5000")
            cursor.close()

    # One writer at a time on SQLite, as any app on it does: threads that both begin a
    # write otherwise meet SQLite's busy handler, which sleeps.
    write_lock = threading.Lock() if sqlite else contextlib.nullcontext()
    meta = sa.MetaData()
    jobs = sa.Table("jobs", meta, autoload_with=engine)
    events = sa.Table("job_events", meta, autoload_with=engine)
    with engine.connect() as conn:
        job_row = dict(conn.execute(sa.select(jobs).limit(1)).mappings().one())
        event_row = dict(
            conn.execute(sa.select(events).where(events.c.job_id == job_row["job_id"]).limit(1))
            .mappings()
            .one()
        )
    hex_ids = isinstance(job_row["job_id"], str)  # SQLite keeps a UUID as 32 hex digits
    app = FastAPI()

    @app.get("/healthz")
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    def key(job_id: str) -> Any:
        try:
            parsed = uuid.UUID(job_id)
        except ValueError:
            raise HTTPException(422, "job_id is not a UUID") from None
        return parsed.hex if hex_ids else parsed

    @app.get("/jobs/{job_id}")
    def get_job(job_id: str) -> dict[str, Any]:
        with engine.connect() as conn:
            row = conn.execute(sa.select(jobs).where(jobs.c.job_id == key(job_id))).mappings()
            found = row.first()
        if found is None:
            raise HTTPException(404, "no such job")
        return {k: (str(v) if isinstance(v, uuid.UUID) else v) for k, v in found.items()}

    @app.post("/jobs", status_code=201)
    def post_job(body: NewJob) -> dict[str, str]:
        new = uuid.uuid4()
        now = int(time.time() * 1000)
        job = dict(job_row, job_id=new.hex if hex_ids else new, type=body.type)
        job.update(scheduled_at_ms=now, updated_at_ms=now, eta_ms=now)
        event = dict(event_row, job_id=job["job_id"])
        for column in events.primary_key:  # the event's own id comes from the database
            event.pop(column.name, None)
        for column in ("at_ms", "created_at_ms"):
            if column in event:
                event[column] = now
        with write_lock, engine.begin() as conn:
            conn.execute(jobs.insert().values(**job))
            conn.execute(events.insert().values(**event))
        return {"job_id": str(new)}

    return app


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--store", required=True)
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    config = uvicorn.Config(
        create_app(args.store),
        host="127.0.0.1",
        port=args.port,
        log_level="warning",
        access_log=False,
        timeout_graceful_shutdown=10,
    )
    uvicorn.Server(config).run()


if __name__ == "__main__":
    main()
