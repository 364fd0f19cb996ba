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
