"""SQLite writers of one process take turns in the process before the file lock."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
import sqlalchemy

from headrace import errors
from headrace.store.database import Store
from headrace.store.dialects import sqlite


def test_concurrent_writers_of_one_process_all_commit(tmp_path: Path) -> None:
    store = Store(f"sqlite:///{tmp_path}/turns.db", migrate=False)
    with store.write() as conn:
        conn.exec_driver_sql("CREATE TABLE t (n INTEGER)")
    failures: list[BaseException] = []

    def write(n: int) -> None:
        try:
            for i in range(50):
                with store.write() as conn:
                    conn.exec_driver_sql(f"INSERT INTO t VALUES ({n * 100 + i})")
        except BaseException as exc:
            failures.append(exc)

    threads = [threading.Thread(target=write, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert failures == []
    with store.read() as conn:
        assert conn.execute(sqlalchemy.text("SELECT count(*) FROM t")).scalar() == 400
    store.close()


def test_a_writer_held_past_the_busy_timeout_makes_the_next_one_busy(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sqlite, "BUSY_TIMEOUT_MS", 200)
    store = Store(f"sqlite:///{tmp_path}/held.db", migrate=False)
    holding, release = threading.Event(), threading.Event()

    def hold() -> None:
        with store.write():
            holding.set()
            release.wait(10)

    holder = threading.Thread(target=hold)
    holder.start()
    assert holding.wait(10)
    try:
        with pytest.raises(errors.StoreUnavailable, match="store busy"), store.write():
            pass
    finally:
        release.set()
        holder.join()
    with store.write() as conn:  # the turn is free again
        conn.exec_driver_sql("SELECT 1")
    store.close()


def test_reads_never_take_the_turn_and_a_write_gives_it_back(tmp_path: Path) -> None:
    store = Store(f"sqlite:///{tmp_path}/nested.db", migrate=False)
    with store.write() as outer:
        outer.exec_driver_sql("CREATE TABLE t (n INTEGER)")
        with store.read() as inner:  # a read inside a write does not wait for the turn
            inner.exec_driver_sql("SELECT 1")
    assert store._writer_turn is not None and store._writer_turn.acquire(blocking=False)
    store._writer_turn.release()
    store.close()
