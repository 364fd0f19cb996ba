"""Connections opening a fresh SQLite file at once all get it in WAL mode, none fails."""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

from headrace.store.dialects import sqlite


def test_connections_racing_to_switch_a_fresh_file_to_wal_wait_instead_of_failing(
    tmp_path: Path,
) -> None:
    path = tmp_path / "fresh.db"
    # A connection holding the fresh (rollback-journal) file exclusively, as another
    # connection does for the moment it switches the file's mode: the mode switches of
    # the engines' first connections below must wait for it, not fail "database is locked".
    holder = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    holder.execute("BEGIN EXCLUSIVE")
    holder.execute("CREATE TABLE t (n INTEGER)")
    engines = [sqlite.create_engine(f"sqlite:///{path}") for _ in range(2)]
    started = threading.Barrier(len(engines) + 1)
    modes: list[str] = []
    failures: list[BaseException] = []

    def connect(engine: object) -> None:
        started.wait()
        try:
            with engine.connect() as conn:  # type: ignore[attr-defined]
                modes.append(conn.exec_driver_sql("PRAGMA journal_mode").scalar())
        except BaseException as exc:
            failures.append(exc)

    threads = [threading.Thread(target=connect, args=(e,)) for e in engines]
    for t in threads:
        t.start()
    started.wait()
    # Both threads are connecting (or about to) while the file is held.
    threading.Event().wait(0.3)
    holder.execute("COMMIT")
    for t in threads:
        t.join(timeout=30)
    holder.close()
    for e in engines:
        e.dispose()
    assert failures == []
    assert modes == ["wal", "wal"]
