"""A page of a tenant's newest jobs walks the listing index: ties are not read and sorted."""

from __future__ import annotations

from typing import Any

from sqlalchemy import event

from headrace import Client
from headrace.model.status import Status
from headrace.store.overview import JobFilter, OverviewRepository


def test_a_page_of_jobs_sharing_a_millisecond_needs_no_sort(store_url: str) -> None:
    client = Client(store_url, run_workers=False)
    client.job_type("lo.noop", queue="maintenance")(lambda ctx, p: None)
    jobs = client.jobs.schedule_many("lo.noop", [{"i": i} for i in range(300)])
    assert len({j.scheduled_at_ms for j in jobs}) == 1  # a batch shares its time
    seen: list[tuple[str, Any]] = []

    def record(_c: Any, _cur: Any, sql: str, params: Any, _ctx: Any, _many: bool) -> None:
        if "ORDER BY" in sql:
            seen.append((sql, params))

    event.listen(client.store.engine, "before_cursor_execute", record)
    try:
        page = client.jobs.list(limit=10)  # newest first, the default order
    finally:
        event.remove(client.store.engine, "before_cursor_execute", record)
    newest = sorted(jobs, key=lambda j: j.job_id, reverse=True)[:10]
    assert [j.job_id for j in page.items] == [j.job_id for j in newest]
    assert len(seen) == 1
    sql, params = seen[0]
    explain = "EXPLAIN " if client.store.is_postgresql else "EXPLAIN QUERY PLAN "
    if client.store.is_postgresql:
        # With statistics, as autovacuum keeps them (without, the planner guesses one row).
        with client.store.write() as conn:
            conn.exec_driver_sql("ANALYZE jobs")
    with client.store.read() as conn:
        plan = " | ".join(str(r) for r in conn.exec_driver_sql(explain + sql, params))
    assert "ix_jobs_tenant_scheduled" in plan, plan
    assert "Sort" not in plan and "TEMP B-TREE" not in plan, plan
    client.close()


def test_listings_by_status_find_that_status_newest_first_with_its_total(store_url: str) -> None:
    # Restated from the withdrawn 0018 status-index test (stop 29): what a listing by status
    # returns, whatever index serves it.
    with Client(store_url, run_workers=False) as client:
        client.job_type("lo.s")(lambda ctx, params: params)
        jobs = client.jobs.schedule_many("lo.s", [{"n": i} for i in range(4)])
        client.jobs.cancel(jobs[1].job_id)
        waiting = client.jobs.list(status="waiting", limit=10)
        assert [j.job_id for j in waiting.items] == [jobs[i].job_id for i in (3, 2, 0)]
        assert waiting.total == 3
        page = OverviewRepository(client.store).search(
            jobs[0].tenant_id, JobFilter(statuses=(Status.CANCELED,)), order="scheduled_at",
            descending=True, page=1, limit=10,
        )  # fmt: skip
        assert [j.job_id for j in page.items] == [jobs[1].job_id] and page.total == 1
