"""Migrating an empty database to head yields exactly the tables' metadata."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from headrace.store import tables
from headrace.store.database import Store


def test_head_equals_metadata(store_url: str) -> None:
    store = Store(store_url)
    with store.read() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        assert compare_metadata(context, tables.metadata) == []
    store.migrate()  # a second run is a no-op
    store.close()


def test_sqlite_runs_in_wal_mode(tmp_path: object) -> None:
    store = Store(f"sqlite:///{tmp_path}/x.db")
    with store.read() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
    store.close()


def test_partial_index_predicates_match_the_migration_and_the_status_machine() -> None:
    # Alembic does not compare index predicates; the migration and the tables must.
    import importlib

    from headrace.model import status as machine

    lean = importlib.import_module("headrace.store.migrations.versions.0005_lean_job_indexes")
    for name in ("HAS_KEY", "WAITING", "HELD", "RETRYING"):
        assert getattr(lean, name) == getattr(tables, name), name
    held = {s.strip(" '") for s in tables.HELD.split("(", 1)[1].rstrip(")").split(",")}
    assert held == {str(s) for s in machine.HELD}
    assert f"status = '{machine.Status.WAITING}'" == tables.WAITING
    assert f"status = '{machine.Status.RETRYING}'" == tables.RETRYING


def test_the_queries_that_run_per_job_use_the_partial_indexes(tmp_path: object) -> None:
    store = Store(f"sqlite:///{tmp_path}/x.db")
    queries = {
        "ix_jobs_claim": "SELECT job_id FROM jobs WHERE queue = 'q' AND status = 'waiting' "
        "AND eta_ms <= 5 ORDER BY eta_ms, scheduled_at_ms",
        "ix_jobs_held": "SELECT job_id FROM jobs WHERE locked_by = 'w' "
        "AND status IN ('locked', 'running', 'canceling', 'suspending')",
    }
    with store.read() as conn:
        for index, query in queries.items():
            plan = conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {query}").all()
            assert index in " ".join(str(r[-1]) for r in plan), (index, plan)
    store.close()


def test_the_insert_trigger_notifies_on_the_workers_channel() -> None:
    import importlib

    from headrace import defaults

    trigger = importlib.import_module("headrace.store.migrations.versions.0006_notify_on_insert")
    assert trigger.CHANNEL == defaults.NOTIFY_CHANNEL
