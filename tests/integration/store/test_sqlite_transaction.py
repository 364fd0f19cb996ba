"""The driver's transactions run on one connection the engine keeps out of its pool."""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

import pytest
import sqlalchemy

from headrace import Client
from headrace.store.database import Store
from headrace.store.dialects import sqlite as sqlite_dialect
from headrace.store.dialects import sqlite_transaction
from headrace.store.dialects.sqlite_lock import HeldGate


def test_schedules_check_no_connection_out_of_the_pool(tmp_path: Path) -> None:
    client = Client(f"sqlite:///{tmp_path}/s.db", run_workers=False)
    client.job_type("st.noop")(lambda ctx, p: None)
    client.jobs.schedule("st.noop", {})  # the type stored, the kept connection opened
    checkouts: list[object] = []
    sqlalchemy.event.listen(client.store.engine.pool, "checkout", lambda *a: checkouts.append(a))
    jobs = [client.jobs.schedule("st.noop", {"n": i}) for i in range(5)]
    assert checkouts == []
    assert [client.jobs.get(j.job_id).params for j in jobs] == [{"n": i} for i in range(5)]
    client.close()


def test_a_transaction_begun_inside_another_runs_on_a_pooled_connection(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = Store(f"sqlite:///{tmp_path}/n.db")
    # Connections that give up at once on a locked file, so the inner BEGIN fails fast:
    # a pooled BEGIN polls for the store's busy timeout (``sqlite_lock.begin_unhandled``),
    # which this test waited out (30 s) while it set only the connections' own.
    monkeypatch.setattr(sqlite_dialect, "BUSY_TIMEOUT_MS", 50)
    sqlalchemy.event.listen(
        store.engine, "connect", lambda c, _r: c.execute("PRAGMA busy_timeout=0")
    )
    store.engine.dispose()
    with sqlite_transaction.transaction(store.engine) as outer:
        # The inner one cannot write while the outer holds the file's write lock, but it
        # is a transaction of its own on another connection, not a BEGIN inside the outer.
        with (
            pytest.raises(sqlalchemy.exc.DBAPIError, match="locked"),
            sqlite_transaction.transaction(store.engine),
        ):
            pass  # pragma: no cover - its BEGIN IMMEDIATE raises
        assert outer.in_transaction
    with sqlite_transaction.transaction(store.engine) as again:
        assert again is outer  # the kept one, free again
    store.close()


def test_disposing_the_engine_closes_the_kept_connection_and_a_new_one_is_set_up(
    tmp_path: Path,
) -> None:
    store = Store(f"sqlite:///{tmp_path}/d.db")
    with sqlite_transaction.transaction(store.engine) as first:
        assert first.execute("PRAGMA wal_autocheckpoint").fetchone() == (1000,)
    # The WAL checkpointer turns automatic checkpoints off for connections made after it
    # starts, and disposes the engine so that none made before stays in use.
    sqlalchemy.event.listen(
        store.engine, "connect", lambda c, _r: c.execute("PRAGMA wal_autocheckpoint=0")
    )
    store.engine.dispose()
    with pytest.raises(sqlite3.ProgrammingError, match="closed"):
        first.execute("SELECT 1")
    with sqlite_transaction.transaction(store.engine) as second:
        assert second is not first
        assert second.execute("PRAGMA wal_autocheckpoint").fetchone() == (0,)
    store.close()
    with pytest.raises(sqlite3.ProgrammingError, match="closed"):
        second.execute("SELECT 1")


def test_a_failed_statement_rolls_back_and_leaves_the_kept_connection_usable(
    tmp_path: Path,
) -> None:
    store = Store(f"sqlite:///{tmp_path}/f.db")
    with sqlite_transaction.transaction(store.engine) as conn:
        conn.execute("CREATE TABLE t (x INTEGER NOT NULL)")
    with pytest.raises(sqlalchemy.exc.DBAPIError, match="NOT NULL"):  # noqa: SIM117
        with sqlite_transaction.transaction(store.engine) as failed:
            failed.execute("INSERT INTO t VALUES (1)")
            failed.execute("INSERT INTO t VALUES (NULL)")
    with sqlite_transaction.transaction(store.engine) as again:
        assert again is conn and again is failed
        assert again.execute("SELECT count(*) FROM t").fetchone() == (0,)
        again.execute("INSERT INTO t VALUES (2)")
    with store.read() as read:
        assert read.exec_driver_sql("SELECT x FROM t").all() == [(2,)]
    store.close()


def test_a_gate_is_shut_only_while_the_transaction_holds_the_write_lock(tmp_path: Path) -> None:
    store = Store(f"sqlite:///{tmp_path}/g.db")
    gate = HeldGate()
    other = sqlite3.connect(tmp_path / "g.db", isolation_level=None)
    other.execute("BEGIN IMMEDIATE")  # another process's writer holds the lock
    holding, finish = threading.Event(), threading.Event()

    def write() -> None:
        with sqlite_transaction.transaction(store.engine, gate):
            holding.set()
            finish.wait(30)

    writer = threading.Thread(target=write)
    writer.start()
    assert not holding.wait(0.2)
    assert gate.wait_open(0)  # waiting for the lock is not holding it
    other.execute("COMMIT")
    assert holding.wait(30)
    assert not gate.wait_open(0)  # shut while it holds the lock
    finish.set()
    writer.join(30)
    assert gate.wait_open(0)  # open once it committed
    # A transaction that raises rolls back and opens the gate too.
    with pytest.raises(RuntimeError), sqlite_transaction.transaction(store.engine, gate):
        assert not gate.wait_open(0)
        raise RuntimeError("boom")
    assert gate.wait_open(0)
    other.close()
    store.close()
