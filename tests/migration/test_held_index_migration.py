"""Migration 0020 writes ix_jobs_held's predicate as equalities; the downgrade restores IN."""

from __future__ import annotations

import uuid

import sqlalchemy
from alembic_steps import alembic_step

from headrace import Client
from headrace.store import tables
from headrace.store.attempts import AttemptRepository
from headrace.store.database import Store


def _held_predicate(store: Store) -> str:
    """``ix_jobs_held``'s predicate as the database holds it, spaces and case folded."""
    with store.read() as conn:
        if store.is_postgresql:
            sql = conn.execute(
                sqlalchemy.text("SELECT indexdef FROM pg_indexes WHERE indexname = 'ix_jobs_held'")
            ).scalar_one()
        else:
            sql = conn.execute(
                sqlalchemy.text("SELECT sql FROM sqlite_master WHERE name = 'ix_jobs_held'")
            ).scalar_one()
    return " ".join(str(sql).split()).lower()


def test_0020_up_down_up_keeps_a_workers_held_jobs_found(store_url: str) -> None:
    with Client(store_url, run_workers=False) as client:
        client.job_type("mig.h", queue="maintenance")(lambda ctx, params: params)
        client.jobs.schedule_many("mig.h", [{"n": n} for n in range(3)])
    store = Store(store_url)
    worker = AttemptRepository(store, str(uuid.uuid4()))
    held = {c.job_id for c in worker.claim("maintenance", ["mig.h"], 2, 60)}
    assert len(held) == 2
    assert " or " in _held_predicate(store) and " in (" not in _held_predicate(store)
    alembic_step(store, "downgrade", "0019")
    before = _held_predicate(store)
    assert " in (" in before or "any (" in before, before
    alembic_step(store, "upgrade", "head")
    assert " or " in _held_predicate(store)
    again = AttemptRepository(store, worker.worker_id)
    assert set(again.held()) == held
    assert tables.HELD.count(" OR ") == 3
    store.close()
