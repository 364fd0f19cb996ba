"""Driver writes wait for another process's write lock themselves (``sqlite_lock.begin``)."""

from __future__ import annotations

import sqlite3
import threading
import time
from pathlib import Path

import pytest
import sqlalchemy

from headrace import errors
from headrace.store.database import Store
from headrace.store.dialects import sqlite as sqlite_dialect
from headrace.store.dialects import sqlite_lock, sqlite_transaction


def _connect(path: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA busy_timeout=0")
    return conn


def _held_for_a_while(path: Path) -> tuple[sqlite3.Connection, threading.Event]:
    """Another connection holding ``path``'s write lock for 0.2 s; set just before it lets go.

    Set before the ``COMMIT``, not after: a waiter can take the lock the moment the
    commit frees it, before this thread gets the GIL back to set the event (a CI flake).
    Anyone holding the lock afterwards still finds it set, since the lock is only free
    once the commit that follows the set has run.
    """
    other = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    other.execute("BEGIN IMMEDIATE")
    released = threading.Event()

    def release() -> None:
        time.sleep(0.2)
        released.set()
        other.execute("COMMIT")

    threading.Thread(target=release).start()
    return other, released


def test_begin_takes_the_lock_once_the_holder_commits(tmp_path: Path) -> None:
    holder, waiter = _connect(tmp_path / "b.db"), _connect(tmp_path / "b.db")
    holder.execute("BEGIN IMMEDIATE")
    released = threading.Event()

    def release() -> None:
        time.sleep(0.1)
        released.set()
        holder.execute("COMMIT")

    threading.Thread(target=release).start()
    sqlite_lock.begin(waiter, timeout_sec=5)
    assert released.is_set() and waiter.in_transaction
    waiter.execute("COMMIT")
    holder.close()
    waiter.close()


def test_begin_gives_up_after_its_timeout_with_sqlite_busy(tmp_path: Path) -> None:
    holder, waiter = _connect(tmp_path / "t.db"), _connect(tmp_path / "t.db")
    holder.execute("BEGIN IMMEDIATE")
    with pytest.raises(sqlite3.OperationalError, match="locked") as raised:
        sqlite_lock.begin(waiter, timeout_sec=0.05)
    assert raised.value.sqlite_errorcode & 0xFF == sqlite3.SQLITE_BUSY
    assert not waiter.in_transaction
    holder.execute("COMMIT")
    holder.close()
    waiter.close()


def test_begin_raises_other_errors_at_once(tmp_path: Path) -> None:
    conn = _connect(tmp_path / "e.db")
    conn.execute("BEGIN")
    with pytest.raises(sqlite3.OperationalError, match="within a transaction"):
        sqlite_lock.begin(conn, timeout_sec=5)
    conn.close()


def test_a_write_waits_for_another_process_lock_and_takes_it_once_free(tmp_path: Path) -> None:
    store = Store(f"sqlite:///{tmp_path}/w.db")
    other, released = _held_for_a_while(tmp_path / "w.db")
    with sqlite_transaction.transaction(store.engine) as conn:
        # It waited in ``begin`` (its own busy handler is off), not in SQLite's.
        assert released.is_set()
        assert conn.execute("PRAGMA busy_timeout").fetchone() == (0,)
    other.close()
    store.close()


def test_a_lock_held_past_the_busy_timeout_fails_the_write_and_frees_the_connection(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = Store(f"sqlite:///{tmp_path}/t.db")
    monkeypatch.setattr(sqlite_dialect, "BUSY_TIMEOUT_MS", 50)
    other = sqlite3.connect(tmp_path / "t.db", isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    with (
        pytest.raises(sqlalchemy.exc.DBAPIError, match="locked"),
        sqlite_transaction.transaction(store.engine),
    ):
        pass  # pragma: no cover - its BEGIN IMMEDIATE raises
    other.execute("COMMIT")
    with sqlite_transaction.transaction(store.engine) as conn:
        assert conn.in_transaction
    other.close()
    store.close()


def _traced(store: Store) -> list[str]:
    """The statements the store's pooled connections run from now on, as SQLite traces them."""
    seen: list[str] = []

    def trace(dbapi_connection: sqlite3.Connection, _record: object) -> None:
        dbapi_connection.set_trace_callback(seen.append)

    sqlalchemy.event.listen(store.engine, "connect", trace)
    store.engine.dispose()  # the connections opened so far are untraced
    return seen


def test_a_pooled_write_polls_for_the_lock_and_keeps_its_busy_handler_for_its_statements(
    tmp_path: Path,
) -> None:
    store = Store(f"sqlite:///{tmp_path}/p.db")
    seen = _traced(store)
    other, released = _held_for_a_while(tmp_path / "p.db")
    with store.write() as conn:
        assert released.is_set()
        driver = conn.connection.driver_connection
        assert isinstance(driver, sqlite3.Connection)
        # Back on for the transaction's statements and the connection's later reads.
        assert driver.execute("PRAGMA busy_timeout").fetchone() == (sqlite_dialect.BUSY_TIMEOUT_MS,)
    # It tried BEGIN IMMEDIATE again and again with the handler off (SQLite's handler
    # would have waited inside one try, which the trace shows once).
    begins = [i for i, s in enumerate(seen) if s == "BEGIN IMMEDIATE"]
    assert len(begins) >= 2
    assert seen[begins[0] - 1] == "PRAGMA busy_timeout=0"
    assert seen[begins[-1] + 1] == f"PRAGMA busy_timeout={sqlite_dialect.BUSY_TIMEOUT_MS}"
    other.close()
    store.close()


def test_a_pooled_write_held_off_past_the_busy_timeout_is_refused_and_changes_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = Store(f"sqlite:///{tmp_path}/r.db")
    with store.write() as conn:
        conn.exec_driver_sql("CREATE TABLE t (x INTEGER)")
    monkeypatch.setattr(sqlite_dialect, "BUSY_TIMEOUT_MS", 50)
    other = sqlite3.connect(tmp_path / "r.db", isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    with pytest.raises(errors.StoreUnavailable, match="store busy"), store.write() as conn:
        conn.exec_driver_sql("INSERT INTO t VALUES (1)")  # pragma: no cover - BEGIN raises
    other.execute("COMMIT")
    with store.write() as conn:
        assert conn.exec_driver_sql("SELECT count(*) FROM t").scalar_one() == 0
        driver = conn.connection.driver_connection
        assert isinstance(driver, sqlite3.Connection)
        assert driver.execute("PRAGMA busy_timeout").fetchone() == (50,)
    other.close()
    store.close()
