"""Migration 0019 puts job_id at the end of the listing index; the downgrade takes it out."""

from __future__ import annotations

import sqlalchemy
from alembic_steps import alembic_step

from headrace import Client
from headrace.store.database import Store


def _listing_columns(store: Store) -> list[str]:
    with store.read() as conn:
        found = sqlalchemy.inspect(conn).get_indexes("jobs")
    return [
        str(c) for i in found if i["name"] == "ix_jobs_tenant_scheduled" for c in i["column_names"]
    ]


def test_0019_up_down_up_keeps_the_jobs_and_their_newest_first_order(store_url: str) -> None:
    with Client(store_url, run_workers=False) as client:
        client.job_type("mig.l")(lambda ctx, params: params)
        jobs = client.jobs.schedule_many("mig.l", [{"n": n} for n in range(25)])
    newest = [j.job_id for j in sorted(jobs, key=lambda j: j.job_id, reverse=True)[:10]]
    store = Store(store_url)
    assert _listing_columns(store) == ["tenant_id", "scheduled_at_ms", "job_id"]
    alembic_step(store, "downgrade", "0018")
    assert _listing_columns(store) == ["tenant_id", "scheduled_at_ms"]
    alembic_step(store, "upgrade", "head")
    assert _listing_columns(store) == ["tenant_id", "scheduled_at_ms", "job_id"]
    store.close()
    with Client(store_url, run_workers=False) as client:
        assert [j.job_id for j in client.jobs.list(limit=10).items] == newest
