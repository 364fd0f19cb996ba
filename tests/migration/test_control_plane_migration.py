"""Migration 0008 keeps every job of a store filled by the previous head, with its data."""

from __future__ import annotations

import re
import uuid

import sqlalchemy
from alembic_steps import alembic_step

from headrace import Client
from headrace.model.status import Status
from headrace.store.database import Store

TENANT = "00000000-0000-0000-0000-000000000000"
USER = "00000000-0000-0000-0000-000000000001"


def _sql(text: str) -> sqlalchemy.TextClause:
    """A statement whose id parameters are bound as UUIDs (SQLite keeps them as hex)."""
    uuid_type = sqlalchemy.Uuid(as_uuid=False)
    names = ("job_id", "tenant_id", "user_id", "j", "t", "u")
    return sqlalchemy.text(text).bindparams(
        *(sqlalchemy.bindparam(n, type_=uuid_type) for n in names if re.search(rf":{n}\b", text))
    )


def test_upgrading_from_0007_keeps_jobs_events_logs_runs_and_snapshots(store_url: str) -> None:
    store = Store(store_url)
    alembic_step(store, "downgrade", "0007")  # the previous head, as a store deployed today
    done, waiting = str(uuid.uuid4()), str(uuid.uuid4())
    common = {
        "tenant_id": TENANT, "user_id": USER, "queue": "default", "scheduled_at_ms": 1000,
        "updated_at_ms": 2000, "eta_ms": 1000, "timeout_sec": 60, "max_retries": 1,
        "retry_delay_sec": 0, "attempt": 1, "progress": 1.0, "retries": 0, "run_count": 1,
        "resumed": False,
    }  # fmt: skip
    with store.write() as conn:
        insert_job = _sql(
            "INSERT INTO jobs (job_id, tenant_id, user_id, type, name, queue, scheduled_at_ms,"
            " updated_at_ms, eta_ms, timeout_sec, max_retries, retry_delay_sec, attempt,"
            " progress, retries, run_count, resumed, status, params, result, finished_at_ms)"
            " VALUES (:job_id, :tenant_id, :user_id, :type, :name, :queue, :scheduled_at_ms,"
            " :updated_at_ms, :eta_ms, :timeout_sec, :max_retries, :retry_delay_sec, :attempt,"
            " :progress, :retries, :run_count, :resumed, :status, :params, :result, :finished)"
        )
        conn.execute(insert_job, {**common, "job_id": done, "type": "old.echo", "name": "kept",
                                  "status": "completed", "params": '{"n": 1}',
                                  "result": '{"n": 1}', "finished": 3000})  # fmt: skip
        conn.execute(insert_job, {**common, "job_id": waiting, "type": "old.echo", "name": None,
                                  "status": "waiting", "params": '{"n": 2}', "result": None,
                                  "finished": None})  # fmt: skip
        conn.execute(
            _sql(
                "INSERT INTO job_events (job_id, tenant_id, from_status, to_status, user_id,"
                " at_ms, reason, attempt) VALUES (:j, :t, NULL, 'waiting', :u, 1000,"
                " 'scheduled', 0)"
            ),
            {"j": done, "t": TENANT, "u": USER},
        )
        conn.execute(
            _sql(
                "INSERT INTO job_logs (job_id, tenant_id, at_ms, level, message, attempt)"
                " VALUES (:j, :t, 1500, 'info', 'hello', 1)"
            ),
            {"j": done, "t": TENANT},
        )
        conn.execute(
            _sql(
                "INSERT INTO job_runs (job_id, run_count, tenant_id, status, started_at_ms,"
                " updated_at_ms, finished_at_ms, metrics, error) VALUES (:j, 1, :t,"
                " 'completed', 1100, 3000, 3000, :m, NULL)"
            ),
            {"j": done, "t": TENANT, "m": '{"received_count": 7, "stages": {}}'},
        )
    store.close()

    store = Store(store_url)  # migrates to head
    with store.read() as conn:
        rows = {
            str(uuid.UUID(str(r["job_id"]))): r
            for r in conn.execute(sqlalchemy.text("SELECT * FROM jobs")).mappings()
        }
    assert set(rows) == {done, waiting}
    assert rows[done]["project"] == "default" and rows[done]["status"] == "completed"
    assert rows[done]["params"] == '{"n": 1}' and rows[done]["result"] == '{"n": 1}'
    assert rows[waiting]["status"] == "waiting" and rows[waiting]["params"] == '{"n": 2}'
    store.close()

    client = Client(store_url, run_workers=False)
    try:
        job = client.jobs.get(done)
        assert (job.name, job.status, job.run_count) == ("kept", Status.COMPLETED, 1)
        assert job.result == {"n": 1}
        assert job.project == "default" and job.tags == ()
        assert [e.reason for e in client.jobs.events(done)] == ["scheduled"]
        assert [line.message for line in client.jobs.logs(done)] == ["hello"]
        (run,) = client.jobs.runs(done)
        assert (run.run_count, run.status) == (1, Status.COMPLETED)
        assert run.metrics == {"received_count": 7, "stages": {}}
        assert [line.message for line in client.jobs.run_logs(done, 1)] == ["hello"]
        assert client.jobs.get(waiting).status is Status.WAITING
        assert {j.job_id for j in client.jobs.find(project="default")} == {done, waiting}
    finally:
        client.close()
