"""Migration 0021: ix_jobs_tenant_status gives way to partial ones and ix_jobs_tenant; down, up."""

from __future__ import annotations

import importlib
import uuid

import sqlalchemy
from alembic_steps import alembic_step

from headrace import Client
from headrace.model import status as machine
from headrace.model.status import Status
from headrace.store import predicates, tables
from headrace.store.attempts import AttemptRepository
from headrace.store.database import Store
from headrace.store.overview import OverviewRepository

NOW = importlib.import_module("headrace.store.migrations.versions.0021_status_index_off_hot_path")


def _indexes(store: Store) -> dict[str, list[str]]:
    with store.read() as conn:
        found = sqlalchemy.inspect(conn).get_indexes("jobs")
    return {str(i["name"]): [str(c) for c in i["column_names"]] for i in found}


def test_0021_up_down_up_keeps_the_counts(store_url: str) -> None:
    with Client(store_url, run_workers=False) as client:
        client.job_type("mig.s", queue="maintenance")(lambda ctx, params: params)
        jobs = client.jobs.schedule_many("mig.s", [{"n": n} for n in range(6)])
        client.jobs.cancel(jobs[0].job_id)
        tenant = jobs[0].tenant_id
    store = Store(store_url)
    worker = AttemptRepository(store, str(uuid.uuid4()))
    assert len(worker.claim("maintenance", ["mig.s"], 2, 60)) == 2
    expected = {"canceled": 1, "locked": 2, "waiting": 3}
    assert OverviewRepository(store).status_counts(tenant) == expected
    now = _indexes(store)
    assert "ix_jobs_tenant_status" not in now
    assert now["ix_jobs_tenant_rest"] == ["tenant_id", "status"]
    assert now["ix_jobs_tenant"] == ["tenant_id"]
    assert now["ix_jobs_claim"] == ["queue", "eta_ms", "scheduled_at_ms", "tenant_id", "status"]
    alembic_step(store, "downgrade", "0020")
    before = _indexes(store)
    assert before["ix_jobs_tenant_status"] == ["tenant_id", "status"]
    assert "ix_jobs_tenant_rest" not in before and "ix_jobs_tenant" not in before
    assert before["ix_jobs_claim"] == ["queue", "eta_ms", "scheduled_at_ms"]
    alembic_step(store, "upgrade", "head")
    assert _indexes(store) == now
    assert OverviewRepository(store).status_counts(tenant) == expected
    store.close()


def test_the_rest_predicate_is_the_migrations_and_splits_the_statuses() -> None:
    assert NOW.REST == tables.REST
    assert NOW.WAITING == tables.WAITING
    groups = [set(members) for _p, members, _leads in predicates.GROUPS]
    every = {str(s) for s in Status}
    assert sum(len(g) for g in groups) + 1 == len(every)  # disjoint, and completed
    assert set().union(*groups) | {predicates.COMPLETED} == every
    assert set(predicates.HELD) == {str(s) for s in machine.HELD}
    # No status a worker writes on its way is in ix_jobs_tenant_rest.
    hot = {Status.WAITING, Status.LOCKED, Status.RUNNING, Status.COMPLETED, Status.RETRYING}
    assert not {str(s) for s in hot} & set(predicates.REST)
    assert all(t.startswith("status <> '") for t in tables.REST.split(" AND "))
