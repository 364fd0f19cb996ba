"""A store that checkpoints its SQLite WAL from a thread, not inside its writers' commits."""

from __future__ import annotations

import os
import sqlite3
import time
from pathlib import Path

import sqlalchemy

from headrace.store.database import Store
from headrace.store.wal_checkpoints import WalCheckpointer


def wait_until(predicate: object, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():  # type: ignore[operator]
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.02)


def fill(store: Store, rows: int) -> None:
    with store.write() as conn:
        conn.exec_driver_sql("CREATE TABLE IF NOT EXISTS t (n INTEGER, b BLOB)")
    for i in range(rows):
        with store.write() as conn:
            conn.execute(sqlalchemy.text("INSERT INTO t VALUES (:n, randomblob(2000))"), {"n": i})


def test_writers_do_not_checkpoint_and_the_thread_copies_the_wal_into_the_file(
    tmp_path: Path,
) -> None:
    path = tmp_path / "bg.db"
    store = Store(f"sqlite:///{path}", migrate=False, background_checkpoints=True)
    with store.read() as conn:
        assert conn.exec_driver_sql("PRAGMA wal_autocheckpoint").scalar() == 0
    fill(store, 1000)  # about 500 pages a commit would otherwise have checkpointed
    wait_until(lambda: os.path.getsize(path) > 1_500_000, 10, "the WAL copied into the file")
    with store.read() as conn:
        assert conn.exec_driver_sql("SELECT count(*) FROM t").scalar() == 1000
    store.close()
    assert not store._checkpointer._thread.is_alive()  # type: ignore[union-attr]


def test_a_store_without_the_thread_keeps_sqlites_automatic_checkpoints(tmp_path: Path) -> None:
    store = Store(f"sqlite:///{tmp_path}/fg.db", migrate=False)
    with store.read() as conn:
        assert conn.exec_driver_sql("PRAGMA wal_autocheckpoint").scalar() == 1000
    assert store._checkpointer is None
    store.close()


def test_a_wal_past_its_limit_is_restarted(tmp_path: Path) -> None:
    path = tmp_path / "restart.db"
    store = Store(f"sqlite:///{path}", migrate=False)
    checkpointer = WalCheckpointer(store.engine, str(path), every_sec=0.01,
                                   restart_above_bytes=64 * 1024)  # fmt: skip
    fill(store, 1)
    # A reader on an old snapshot keeps the WAL from being copied and started over, so
    # it grows past its limit, as under a load checkpoints cannot catch up with.
    reader = sqlite3.connect(path, isolation_level=None)
    reader.execute("BEGIN")
    reader.execute("SELECT count(*) FROM t").fetchone()
    try:
        fill(store, 300)
        wait_until(lambda: checkpointer.restarts > 0, 10, "a RESTART checkpoint")
        reader.execute("COMMIT")
        fill(store, 9)
        with store.read() as conn:
            assert conn.exec_driver_sql("SELECT count(*) FROM t").scalar() == 310
    finally:
        reader.close()
        checkpointer.stop()
        store.close()
