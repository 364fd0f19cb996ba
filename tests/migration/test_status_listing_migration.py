"""Migration 0018 ends the status listing index in ``scheduled_at_ms``: a store filled by
the previous head (0017) gets the new index in place of the old one, listings by status
find the same jobs, and a page of one status, newest first, is read from the index in
order rather than sorted from all the status's jobs."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any

import sqlalchemy
from alembic_steps import alembic_step
from sqlalchemy import bindparam, event, text

from headrace import Client
from headrace.model.status import Status
from headrace.store import tables
from headrace.store.database import Store
from headrace.store.overview import JobFilter, OverviewRepository

MIGRATION = importlib.import_module(
    "headrace.store.migrations.versions.0018_status_listing_in_order"
)
MADE, REPLACED = MIGRATION.MADE[0], MIGRATION.REPLACED[0]


def _job_indexes(store: Store) -> set[str]:
    with store.read() as conn:
        return {str(i["name"]) for i in sqlalchemy.inspect(conn).get_indexes("jobs")}


def test_upgrading_from_0017_replaces_the_index_and_keeps_the_listings(store_url: str) -> None:
    with Client(store_url, run_workers=False) as client:
        client.job_type("mig.s")(lambda ctx, params: params)
        jobs = client.jobs.schedule_many("mig.s", [{"n": i} for i in range(4)])
        client.jobs.cancel(jobs[1].job_id)
    tenant = jobs[0].tenant_id
    store = Store(store_url)
    alembic_step(store, "downgrade", "0017")  # the previous head, as a store deployed today
    assert REPLACED in _job_indexes(store) and MADE not in _job_indexes(store)
    store.close()

    with Client(store_url, run_workers=False) as client:  # migrates to head
        assert MADE in _job_indexes(client.store) and REPLACED not in _job_indexes(client.store)
        waiting = client.jobs.list(status="waiting", limit=10)
        assert [j.job_id for j in waiting.items] == [jobs[i].job_id for i in (3, 2, 0)]
        assert waiting.total == 3
        page = OverviewRepository(client.store).search(
            tenant, JobFilter(statuses=(Status.CANCELED,)), order="scheduled_at", descending=True,
            page=1, limit=10,
        )  # fmt: skip
        assert [j.job_id for j in page.items] == [jobs[1].job_id] and page.total == 1

    store = Store(store_url)
    alembic_step(store, "downgrade", "0017")
    assert REPLACED in _job_indexes(store) and MADE not in _job_indexes(store)
    alembic_step(store, "upgrade", "head")
    assert MADE in _job_indexes(store)
    store.close()


def _statements(client: Client, call: Callable[[], object]) -> list[tuple[str, Any]]:
    """The SQL statements (and their parameters) ``call`` sends to the store."""
    seen: list[tuple[str, Any]] = []

    def grab(conn: Any, cursor: Any, statement: str, parameters: Any, *rest: Any) -> None:
        seen.append((statement, parameters))

    event.listen(client.store.engine, "before_cursor_execute", grab)
    try:
        call()
    finally:
        event.remove(client.store.engine, "before_cursor_execute", grab)
    return seen


def test_a_page_of_one_status_is_read_from_the_index_in_order(store_url: str) -> None:
    with Client(store_url, run_workers=False) as client:
        client.job_type("list.s", queue="q")(lambda ctx, params: None)
        ids = [j.job_id for j in client.jobs.schedule_many("list.s", [{}] * 3000)]
        ended = [{"j": j} for j in ids[::3]]
        with client.store.write() as conn:
            # A third of them ended (the plan, not the path there, is what is tested).
            J = tables.jobs
            end = J.update().where(J.c.job_id == bindparam("j")).values(status="completed")
            conn.execute(end, ended)
        with client.store.write() as conn:
            conn.execute(text("ANALYZE"))
        tenant = client.jobs.get(ids[0]).tenant_id
        listings: dict[str, Callable[[], Any]] = {
            "jobs.list": lambda: client.jobs.list(status="completed", limit=5),
            "overview.search": lambda: OverviewRepository(client.store).search(
                tenant,
                JobFilter(statuses=(Status.COMPLETED,)),
                order="scheduled_at",
                descending=True,
                page=1,
                limit=5,
            ),
        }
        newest = sorted(
            (client.jobs.get(e["j"]) for e in ended),
            key=lambda j: (j.scheduled_at_ms, j.job_id),
            reverse=True,
        )[:5]
        for name, listing in listings.items():
            assert [j.job_id for j in listing().items] == [j.job_id for j in newest], name
            pages = [(s, p) for s, p in _statements(client, listing) if "ORDER BY" in s.upper()]
            assert len(pages) == 1, (name, pages)
            statement, parameters = pages[0]
            with client.store.read() as conn:
                if client.store.engine.dialect.name == "sqlite":
                    plan = " | ".join(
                        str(r[-1])
                        for r in conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {statement}", parameters)
                    )
                    assert f"USING INDEX {MADE}" in plan, (name, plan)
                    # Only the tie-break (job_id) is sorted, within one scheduled time.
                    assert "USE TEMP B-TREE FOR ORDER BY" not in plan, (name, plan)
                else:
                    plan = " | ".join(
                        str(r[0]) for r in conn.exec_driver_sql(f"EXPLAIN {statement}", parameters)
                    )
                    assert f"Index Scan Backward using {MADE}" in plan, (name, plan)
                    # Sorted only within one scheduled time, as the index hands rows over.
                    assert "Incremental Sort" in plan and "->  Sort" not in plan, (name, plan)
