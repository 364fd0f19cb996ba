"""SQLite's one-by-one schedule on the driver connection writes what SQLAlchemy's path writes."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy

from headrace import Client, errors
from headrace.model import ids
from headrace.store import sqlite_schedule
from headrace.store.database import Store
from headrace.store.job_rows import INSERT_EVENT, insert_job, job_from_row, scheduled_event

TENANT = "00000000-0000-4000-8000-000000000001"
USER = "00000000-0000-4000-8000-000000000002"


def new_row(**extra: Any) -> dict[str, Any]:
    """A ``jobs`` row as the jobs service builds it (defaults left to the columns)."""
    return {
        "job_id": ids.new_id(),
        "tenant_id": TENANT,
        "user_id": USER,
        "idempotency_key": None,
        "type": "st.noop",
        "name": None,
        "description": None,
        "queue": "default",
        "scheduled_at_ms": 1_000,
        "updated_at_ms": 1_000,
        "eta_ms": 1_000,
        "status": "waiting",
        "timeout_sec": 0,
        "max_retries": 0,
        "retry_delay_sec": 1,
        "params": "{}",
        "labels": None,
        **extra,
    }


def raw_rows(path: Path) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    """Every job and event as stored, with each value's SQLite type."""
    conn = sqlite3.connect(path)
    try:
        jobs = conn.execute("SELECT * FROM jobs").fetchall()
        job_types = conn.execute(
            "SELECT "
            + ", ".join(f"typeof({c[1]})" for c in conn.execute("PRAGMA table_info(jobs)"))
            + " FROM jobs"
        ).fetchall()
        events = conn.execute(
            "SELECT job_id, tenant_id, from_status, to_status, user_id, at_ms, reason, attempt,"
            " typeof(job_id), typeof(user_id), typeof(attempt) FROM job_events"
        ).fetchall()
    finally:
        conn.close()
    return [*jobs, *job_types], events


def test_the_driver_path_stores_the_rows_and_returns_the_job_sqlalchemys_would(
    tmp_path: Path,
) -> None:
    row = new_row(origin="proc-1")
    fast, slow = Store(f"sqlite:///{tmp_path}/fast.db"), Store(f"sqlite:///{tmp_path}/slow.db")
    found = sqlite_schedule.insert_new(fast, dict(row), USER)
    with slow.write() as conn:
        expected = conn.execute(insert_job(slow.dialect), dict(row)).mappings().one()
        conn.execute(INSERT_EVENT, scheduled_event(row, USER))
    assert found is not None
    assert job_from_row(found) == job_from_row(expected)  # type: ignore[arg-type]
    assert found == dict(expected)
    fast.close()
    slow.close()
    assert raw_rows(tmp_path / "fast.db") == raw_rows(tmp_path / "slow.db")


def test_a_schedule_runs_no_statement_through_sqlalchemy(tmp_path: Path) -> None:
    client = Client(f"sqlite:///{tmp_path}/s.db", run_workers=False)
    client.job_type("st.noop")(lambda ctx, p: None)
    client.jobs.schedule("st.noop", {})  # the type stored, the statements compiled
    seen: list[str] = []
    sqlalchemy.event.listen(
        client.store.engine, "before_cursor_execute", lambda *a: seen.append(a[2])
    )
    job = client.jobs.schedule("st.noop", {"n": 1})
    assert seen == []
    assert client.jobs.get(job.job_id).params == {"n": 1}
    assert [e.to_status for e in client.jobs.events(job.job_id)] == ["waiting"]
    client.close()


def test_a_taken_key_writes_nothing_and_the_job_holding_it_comes_back(tmp_path: Path) -> None:
    store = Store(f"sqlite:///{tmp_path}/k.db")
    first = sqlite_schedule.insert_new(store, new_row(idempotency_key="k"), USER)
    assert first is not None
    assert sqlite_schedule.insert_new(store, new_row(idempotency_key="k"), USER) is None
    with store.read() as conn:
        counts = [
            conn.exec_driver_sql(f"SELECT count(*) FROM {t}").scalar()
            for t in ("jobs", "job_events")
        ]
    assert counts == [1, 1]
    store.close()
    client = Client(f"sqlite:///{tmp_path}/k2.db", run_workers=False)
    client.job_type("st.noop")(lambda ctx, p: None)
    a = client.jobs.schedule("st.noop", {}, idempotency_key="same")
    b = client.jobs.schedule("st.noop", {}, idempotency_key="same")
    assert a.job_id == b.job_id
    assert len(client.jobs.events(a.job_id)) == 1
    client.close()


def test_a_row_the_database_refuses_is_a_store_error_and_writes_nothing(tmp_path: Path) -> None:
    store = Store(f"sqlite:///{tmp_path}/e.db")
    with pytest.raises(errors.StoreError, match="NOT NULL"):
        sqlite_schedule.insert_new(store, new_row(type=None), USER)
    with store.read() as conn:
        counts = [
            conn.exec_driver_sql(f"SELECT count(*) FROM {t}").scalar()
            for t in ("jobs", "job_events")
        ]
    assert counts == [0, 0]
    # The connection went back to the pool out of its transaction: the next write works.
    assert sqlite_schedule.insert_new(store, new_row(), USER) is not None
    store.close()
