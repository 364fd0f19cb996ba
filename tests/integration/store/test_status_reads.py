"""Reads by status stay exact and indexed without an index of every status (migration 0021).

No index holds ``completed`` jobs by status: counts take them as the tenant's jobs minus
those of the partial indexes (waiting, held, the rest). These tests move jobs through
every status, in two tenants, and compare each read with a plain ``GROUP BY``; and check
that each rewritten read's statements are served by the indexes, none scanning ``jobs``.
"""

from __future__ import annotations

import random
import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from sqlalchemy import event, text

from headrace import Client
from headrace.model import status as machine
from headrace.model.status import Status
from headrace.store.attempts import AttemptRepository
from headrace.store.database import Store
from headrace.store.jobs import JobRepository
from headrace.store.overview import JobFilter, OverviewRepository
from headrace.store.workers import WorkerRepository

TYPE = "sr.noop"
HELD = [str(s) for s in machine.HELD]


def _truth(store: Store, tenant_id: str) -> dict[str, int]:
    with store.read() as conn:
        rows = conn.execute(
            text("SELECT status, count(*) FROM jobs WHERE tenant_id = :t GROUP BY status"),
            {"t": str(uuid.UUID(tenant_id)) if store.is_postgresql else uuid.UUID(tenant_id).hex},
        ).all()
    return {str(s): int(n) for s, n in rows}


def _move(store: Store, rng: random.Random, k: int) -> None:
    """Give ``k`` random jobs random statuses (and held ones a worker and a lease)."""
    with store.write() as conn:
        ids = [r[0] for r in conn.execute(text("SELECT job_id FROM jobs")).all()]
        for job_id in rng.sample(ids, min(k, len(ids))):
            status = rng.choice(list(Status))
            conn.execute(
                text(
                    "UPDATE jobs SET status = :s, locked_by = CASE WHEN :held THEN job_id END,"
                    " lease_expires_ms = :lease, retries = :retries WHERE job_id = :j"
                ),
                {
                    "s": str(status),
                    "held": str(status) in HELD,
                    "lease": rng.choice([0, 2**40]),
                    "retries": rng.choice([0, 0, 9]),
                    "j": job_id,
                },
            )


@pytest.fixture
def two_tenants(store_url: str) -> Iterator[tuple[Client, Client]]:
    client = Client(store_url, run_workers=False)
    other = client.for_tenant("sr-other")
    for c in (client, other):
        c.job_type(TYPE, queue="maintenance")(lambda ctx, p: None)
    yield client, other
    client.close()


def test_status_reads_stay_exact_while_jobs_move_between_statuses(
    two_tenants: tuple[Client, Client],
) -> None:
    client, other = two_tenants
    client.jobs.schedule_many(TYPE, [{"i": i} for i in range(120)])
    other.jobs.schedule_many(TYPE, [{"i": i} for i in range(40)])
    store = client.store
    tenant = client.jobs.list(limit=1).items[0].tenant_id
    over, jobs, workers = OverviewRepository(store), JobRepository(store), WorkerRepository(store)
    worker = AttemptRepository(store, str(uuid.uuid4()))
    assert len(worker.claim("maintenance", [TYPE], 7, 60)) == 7  # a real claim, both tenants'
    rng = random.Random(16)
    choices = [
        [Status.COMPLETED],
        [Status.WAITING],
        [Status.RUNNING, Status.LOCKED],
        [Status.FAILED, Status.CANCELED],
        [Status.COMPLETED, Status.FAILED, Status.WAITING],
        [Status.COMPLETED, Status.SUSPENDED, Status.CANCELING],
        [s for s in Status if s is not Status.WAITING],
        list(Status),
    ]
    for step in range(8):
        truth = _truth(store, tenant)
        assert over.status_counts(tenant) == truth, step
        assert sum(truth.values()) == 120
        for statuses in choices:
            expected = sum(truth.get(str(s), 0) for s in statuses)
            page = jobs.list(
                tenant, statuses=statuses, order="scheduled_at", descending=True, page=1, limit=5
            )
            assert page.total == expected, (step, statuses)
            assert all(j.status in statuses for j in page.items)
            found = over.search(
                tenant,
                JobFilter(statuses=tuple(statuses), type_id=TYPE),
                order="scheduled_at",
                descending=False,
                page=1,
                limit=5,
            )
            assert found.total == expected, (step, statuses)
        counted = workers.count_jobs(tenant, HELD)
        assert sum(n for _q, _s, _t, n in counted) == sum(truth.get(s, 0) for s in HELD)
        everyone = workers.count_jobs(None, HELD)
        both = {**truth}
        for s, n in _truth(store, other.jobs.list(limit=1).items[0].tenant_id).items():
            both[s] = both.get(s, 0) + n
        assert sum(n for _q, _s, _t, n in everyone) == sum(both.get(s, 0) for s in HELD)
        waiting = {str(s) for s in (Status.WAITING, Status.RESUMING, Status.RETRYING)}
        with store.read() as conn:
            rows = conn.execute(
                text(
                    "SELECT queue, min(scheduled_at_ms), status, tenant_id FROM jobs"
                    " GROUP BY queue, status, tenant_id"
                )
            ).all()
        assert over.oldest_waiting(tenant) == (
            {"maintenance": min(int(r[1]) for r in rows if r[2] in waiting and _is(r[3], tenant))}
            if any(r[2] in waiting and _is(r[3], tenant) for r in rows)
            else {}
        )
        stuck = over.stuck(tenant, int(time.time() * 1000), 5, 500)
        with store.read() as conn:
            stuck_truth = {
                str(uuid.UUID(str(r[0])))
                for r in conn.execute(
                    text("SELECT job_id, status, lease_expires_ms, retries, tenant_id FROM jobs")
                ).all()
                if _is(r[4], tenant)
                and (
                    (r[1] in HELD and r[2] is not None and r[2] < time.time() * 1000)
                    or (r[1] not in {str(s) for s in machine.FINAL} and r[3] >= 5)
                )
            }
        assert {j.job_id for j in stuck} == stuck_truth, step
        _move(store, rng, 40)


def _is(stored: Any, tenant_id: str) -> bool:
    return uuid.UUID(str(stored)) == uuid.UUID(tenant_id)


def _statements(store: Store, read: Callable[[], Any]) -> list[tuple[str, Any]]:
    seen: list[tuple[str, Any]] = []

    def record(_c: Any, _cur: Any, sql: str, params: Any, _ctx: Any, _many: bool) -> None:
        if sql.lstrip().upper().startswith("SELECT"):
            seen.append((sql, params))

    event.listen(store.engine, "before_cursor_execute", record)
    try:
        read()
    finally:
        event.remove(store.engine, "before_cursor_execute", record)
    return seen


def _plan(store: Store, sql: str, params: Any) -> str:
    with store.engine.connect() as conn:
        if store.is_postgresql:
            # Whether an index serves each part, not what a few hundred rows cost: a
            # table this small is cheapest scanned.
            conn.exec_driver_sql("SET enable_seqscan = off")
            rows = conn.exec_driver_sql("EXPLAIN " + sql, params).all()
            conn.rollback()
            return "\n".join(str(r[0]) for r in rows)
        rows = conn.exec_driver_sql("EXPLAIN QUERY PLAN " + sql, params).all()
        return "\n".join(str(r[-1]) for r in rows)


def test_each_status_read_is_served_by_the_partial_indexes(
    two_tenants: tuple[Client, Client],
) -> None:
    client, other = two_tenants
    client.jobs.schedule_many(TYPE, [{"i": i} for i in range(300)])
    other.jobs.schedule_many(TYPE, [{"i": i} for i in range(30)])
    store = client.store
    _move(store, random.Random(21), 200)
    with store.write() as conn:
        conn.exec_driver_sql("ANALYZE")
    tenant = client.jobs.list(limit=1).items[0].tenant_id
    over, jobs, workers = OverviewRepository(store), JobRepository(store), WorkerRepository(store)
    now = int(time.time() * 1000)

    def count(statuses: list[Status]) -> Callable[[], Any]:
        return lambda: jobs.list(
            tenant, statuses=statuses, order="scheduled_at", descending=True, page=1, limit=5
        )

    rest, claim, held = "ix_jobs_tenant_rest", "ix_jobs_claim", "ix_jobs_held"
    reads: dict[str, tuple[Callable[[], Any], set[str]]] = {
        "status_counts": (lambda: over.status_counts(tenant), {rest, claim, held}),
        "oldest_waiting": (lambda: over.oldest_waiting(tenant), {rest, claim}),
        "stuck": (lambda: over.stuck(tenant, now, 5, 50), {rest, claim, held}),
        "count failed": (count([Status.FAILED]), {rest}),
        "count waiting": (count([Status.WAITING]), {claim}),
        "count running": (count([Status.RUNNING]), {held}),
        "count completed": (count([Status.COMPLETED]), {rest, claim, held}),
        "search": (
            lambda: over.search(
                tenant,
                JobFilter(statuses=(Status.FAILED, Status.CANCELED)),
                order="scheduled_at",
                descending=True,
                page=1,
                limit=5,
            ),
            {rest},
        ),
        "count_jobs held": (lambda: workers.count_jobs(None, HELD), {held}),
    }
    for name, (read, indexes) in reads.items():
        statements = _statements(store, read)
        # The first statement is the read (or a listing's count); a listing's page is
        # ix_jobs_tenant_scheduled's (test_listing_order).
        plan = _plan(store, *statements[0])
        for index in indexes:
            assert index in plan, (name, index, plan)
        assert "ix_jobs_tenant_status" not in plan
        if store.is_postgresql:
            assert "Seq Scan" not in plan, (name, plan)
        else:
            assert not any(line.strip() == "SCAN jobs" for line in plan.splitlines()), (name, plan)
