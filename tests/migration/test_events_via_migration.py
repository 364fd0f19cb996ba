"""Migration 0018 adds ``job_events.via`` to a store filled by the previous head (0017): its
events read as before; rows written with ``via`` read as one event per step; the downgrade
drops the column (keeping every row) and the upgrade adds it again."""

from __future__ import annotations

import sqlalchemy
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic_steps import alembic_step

from headrace import Client
from headrace.model.status import Status
from headrace.store import tables
from headrace.store.database import HEAD_REVISION, Store

S = Status
E = tables.job_events
#: The columns migration 0017 knows (``select(E)`` would name ``via``).
OLD = (E.c.event_id, E.c.from_status, E.c.to_status, E.c.reason, E.c.attempt)


def _columns(store: Store) -> set[str]:
    with store.read() as conn:
        return {c["name"] for c in sqlalchemy.inspect(conn).get_columns("job_events")}


def _old_rows(store: Store) -> list[tuple[object, ...]]:
    with store.read() as conn:
        return [tuple(r) for r in conn.execute(sqlalchemy.select(*OLD).order_by(E.c.event_id))]


def test_0018_up_down_and_up_again_keeps_every_event(store_url: str) -> None:
    with Client(store_url, run_workers=False) as client:
        client.job_type("mig.ev")(lambda ctx, params: None)
        job = client.jobs.schedule("mig.ev")
        tenant = client.jobs.get(job.job_id).tenant_id
    store = Store(store_url)
    alembic_step(store, "downgrade", "0017")  # the previous head, as a store deployed today
    assert "via" not in _columns(store)
    # Events as 0017 stored them: one row per step (a worker's start and end, say).
    with store.write() as conn:
        for a, b in ((S.WAITING, S.LOCKED), (S.LOCKED, S.RUNNING), (S.RUNNING, S.COMPLETED)):
            conn.execute(
                sqlalchemy.insert(E).values(
                    job_id=job.job_id, tenant_id=tenant, from_status=str(a), to_status=str(b),
                    at_ms=5, reason=f"to {b}", attempt=1,
                )
            )  # fmt: skip
    before = _old_rows(store)
    store.close()

    with Client(store_url, run_workers=False) as client:  # migrates to head
        assert client.store.revision() == HEAD_REVISION >= "0018"  # migrated past 0018
        assert "via" in _columns(client.store)
        events = client.jobs.events(job.job_id)
        assert [(e.from_status, e.to_status, e.reason) for e in events] == [
            (None, S.WAITING, "scheduled"),
            (S.WAITING, S.LOCKED, "to locked"),
            (S.LOCKED, S.RUNNING, "to running"),
            (S.RUNNING, S.COMPLETED, "to completed"),
        ]
        # A new run's write of two steps: one row, read as two events.
        again = client.jobs.schedule("mig.ev")
        with client.store.write() as conn:
            conn.execute(
                sqlalchemy.insert(E).values(
                    job_id=again.job_id, tenant_id=tenant, from_status="locked",
                    to_status="completed", via="running", at_ms=6, reason="completed", attempt=1,
                )
            )  # fmt: skip
        assert [(e.from_status, e.to_status) for e in client.jobs.events(again.job_id)] == [
            (None, S.WAITING), (S.LOCKED, S.RUNNING), (S.RUNNING, S.COMPLETED)
        ]  # fmt: skip
        with client.store.read() as conn:
            vias = conn.execute(sqlalchemy.select(E.c.via).order_by(E.c.event_id)).scalars()
            assert list(vias) == [None] * 5 + ["running"]

    store = Store(store_url)
    with_via = _old_rows(store)
    assert with_via[: len(before)] == before
    alembic_step(store, "downgrade", "0017")
    assert "via" not in _columns(store)
    # Every row is kept; the two-step row reads as its first and last status.
    assert _old_rows(store) == with_via
    alembic_step(store, "upgrade", "head")
    assert "via" in _columns(store)
    assert _old_rows(store) == with_via
    with store.read() as conn:
        assert set(conn.execute(sqlalchemy.select(E.c.via)).scalars()) == {None}
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        assert compare_metadata(context, tables.metadata) == []
    store.close()
