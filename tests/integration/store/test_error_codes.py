"""Driver errors are classified by their codes (sqlstate, SQLite result codes), not text."""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

import pytest
import sqlalchemy

from headrace import errors
from headrace.api import problems
from headrace.store.database import Store, classify

PG_ADMIN = os.environ.get("HEADRACE_TEST_PG", "postgresql://postgres@127.0.0.1:5432/test")


def test_an_error_whose_message_says_locked_is_not_a_503(store_url: str) -> None:
    store = Store(store_url)
    try:
        with pytest.raises(errors.StoreError) as caught, store.read() as conn:
            conn.execute(sqlalchemy.text("SELECT * FROM locked_busy_table"))
        assert not isinstance(caught.value, errors.StoreUnavailable)
        assert problems.status_of(caught.value)[0] == 500
    finally:
        store.close()


def test_a_value_postgresql_cannot_hold_is_invalid_input() -> None:
    store = Store(PG_ADMIN, migrate=False)
    try:
        with pytest.raises(errors.InvalidInput), store.read() as conn:
            conn.execute(sqlalchemy.text("SELECT CAST(:v AS uuid)"), {"v": "urn:uuid:nope"})
    finally:
        store.close()


def test_sqlite_busy_is_classified_from_its_result_code(tmp_path: Path) -> None:
    path = tmp_path / "busy.db"
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("CREATE TABLE t (x)")
    holder.execute("BEGIN IMMEDIATE")
    other = sqlite3.connect(path, timeout=0, isolation_level=None)
    with pytest.raises(sqlite3.OperationalError) as caught:
        other.execute("BEGIN IMMEDIATE")
    assert classify(caught.value) == "busy"
    holder.rollback()
    holder.close()
    other.close()


def test_an_unreachable_postgresql_is_unavailable() -> None:
    store = Store("postgresql://postgres@127.0.0.1:9/test", migrate=False)
    try:
        with pytest.raises(errors.StoreUnavailable), store.read() as conn:
            conn.execute(sqlalchemy.text("SELECT 1"))
    finally:
        store.close()
