"""Migration 0012 adds the schedule tables to a store filled by the previous head (0011),
keeping its jobs; its downgrade takes them away again."""

from __future__ import annotations

import uuid

import sqlalchemy
from alembic_steps import alembic_step

from headrace import Client
from headrace.model.status import Status
from headrace.service.ticker import Ticker
from headrace.store.database import Store


def _tables(store: Store) -> set[str]:
    with store.read() as conn:
        return set(sqlalchemy.inspect(conn).get_table_names())


def test_upgrading_from_0011_keeps_jobs_and_schedules_them(store_url: str) -> None:
    with Client(store_url, run_workers=False) as client:
        client.job_type("mig.echo")(lambda ctx, params: params)
        job = client.jobs.create("kept", type="mig.echo", params={"n": 1})
        client.jobs.start(job.job_id)
    store = Store(store_url)
    alembic_step(store, "downgrade", "0011")  # the previous head, as a store deployed today
    assert not {"schedules", "schedule_firings"} & _tables(store)
    with store.read() as conn:
        assert conn.execute(sqlalchemy.text("SELECT count(*) FROM jobs")).scalar_one() == 1
    store.close()

    with Client(store_url, run_workers=False) as client:  # migrates to head
        assert {"schedules", "schedule_firings"} <= _tables(client.store)
        kept = client.jobs.get(job.job_id)
        assert (kept.name, kept.status, kept.run_count) == ("kept", Status.WAITING, 1)
        client.jobs.stop(job.job_id, force=True)
        made = client.schedules.create(job.job_id, "0 * * * *", misfire="run_once")
        assert made.next_fire_ms is not None
        Ticker(client.store, client.registry, str(uuid.uuid4())).tick(made.next_fire_ms)
        (firing,) = client.schedules.firings(made.schedule_id)
        assert firing.run_count == 2 and client.jobs.get(job.job_id).run_count == 2
