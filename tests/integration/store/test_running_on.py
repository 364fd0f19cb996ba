"""``running_on`` (what ``balance`` moves) reads the held jobs' index, not the tenant's jobs."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import update
from test_status_reads import _plan, _statements

from headrace import Client
from headrace.store import tables
from headrace.store.workers import WorkerRepository

TYPE = "running_on.noop"
J = tables.jobs


@pytest.fixture
def client(store_url: str) -> Iterator[Client]:
    c = Client(store_url, run_workers=False)
    c.job_type(TYPE, queue="q")(lambda ctx, params: None)
    yield c
    c.close()


def test_running_on_lists_the_tenants_running_jobs_of_the_queue_from_the_held_index(
    client: Client,
) -> None:
    jobs = client.jobs.schedule_many(TYPE, [{"i": i} for i in range(40)])
    store = client.store
    tenant = jobs[0].tenant_id
    workers = [f"00000000-0000-0000-0000-00000000000{i}" for i in (1, 2, 3, 4)]
    with store.write() as conn:  # three running, one locked (claimed, not started)
        for i, job in enumerate(jobs[:4]):
            conn.execute(
                update(J)
                .where(J.c.job_id == job.job_id)
                .values(status="running" if i < 3 else "locked", locked_by=workers[i])
            )
        conn.exec_driver_sql("ANALYZE")
    repo = WorkerRepository(store)
    found = repo.running_on(tenant, "q")
    assert sorted((j, w) for j, w, _labels in found) == sorted(
        (str(job.job_id), workers[i]) for i, job in enumerate(jobs[:3])
    )
    assert repo.running_on(tenant, "other") == []
    (sql, params), *_ = _statements(store, lambda: repo.running_on(tenant, "q"))
    plan = _plan(store, sql, params)
    assert "ix_jobs_held" in plan, plan
    if store.is_postgresql:
        assert "Seq Scan" not in plan, plan
    else:
        assert not any(line.strip() == "SCAN jobs" for line in plan.splitlines()), plan
