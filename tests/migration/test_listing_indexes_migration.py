"""Migration 0016 drops the type and project listing indexes of ``jobs`` from a store
filled by the previous head (0015); listings by type and project still find the jobs, and
the downgrade makes the indexes again."""

from __future__ import annotations

import importlib

import sqlalchemy
from alembic_steps import alembic_step

from headrace import Client
from headrace.store.database import Store
from headrace.store.overview import JobFilter, OverviewRepository

DROPPED = importlib.import_module(
    "headrace.store.migrations.versions.0016_no_type_project_indexes"
).DROPPED


def _job_indexes(store: Store) -> set[str]:
    with store.read() as conn:
        return {str(i["name"]) for i in sqlalchemy.inspect(conn).get_indexes("jobs")}


def test_upgrading_from_0015_drops_the_indexes_and_keeps_the_listings(store_url: str) -> None:
    with Client(store_url, run_workers=False) as client:
        client.job_type("mig.a")(lambda ctx, params: params)
        client.job_type("mig.b")(lambda ctx, params: params)
        a = client.jobs.schedule_many("mig.a", [{"n": 1}, {"n": 2}])
        client.jobs.schedule("mig.b", {"n": 3})
    tenant = a[0].tenant_id
    store = Store(store_url)
    alembic_step(store, "downgrade", "0015")  # the previous head, as a store deployed today
    assert set(DROPPED) <= _job_indexes(store)
    store.close()

    with Client(store_url, run_workers=False) as client:  # migrates to head
        assert not set(DROPPED) & _job_indexes(client.store)
        overview = OverviewRepository(client.store)

        def found(where: JobFilter) -> set[str]:
            page = overview.search(
                tenant, where, order="scheduled_at", descending=True, page=1, limit=10
            )
            assert page.total == len(page.items)
            return {j.job_id for j in page.items}

        assert found(JobFilter(type_id="mig.a")) == {j.job_id for j in a}
        assert len(found(JobFilter(project="default"))) == 3
        assert found(JobFilter(project="elsewhere")) == set()
        assert found(JobFilter(type_id="mig.a", project="default")) == {j.job_id for j in a}

    store = Store(store_url)
    alembic_step(store, "downgrade", "0015")
    assert set(DROPPED) <= _job_indexes(store)
    alembic_step(store, "upgrade", "head")
    store.close()
