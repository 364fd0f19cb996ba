"""A page of a tenant's newest jobs walks the listing index: ties are not read and sorted."""

from __future__ import annotations

from typing import Any

from sqlalchemy import event

from headrace import Client


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
