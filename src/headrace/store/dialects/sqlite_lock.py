"""Waiting for a SQLite file's write lock by polling ``BEGIN IMMEDIATE``, not in SQLite's handler.

Every write transaction of a store waits here: the connection a store keeps for its driver
writes (``sqlite_transaction``) has its busy handler off for good, and a pooled connection
turns its handler off for the ``BEGIN IMMEDIATE`` only (``begin_unhandled``). Both poll
every 50 µs at first and at least every ``LOCK_POLL_MAX_SEC``. SQLite's busy handler
sleeps 1, 2, 5, 10 ... up to 100 ms a try whatever the holder does: of two worker
processes draining one queue, the one that lost a race slept while the other took the
lock again and again (8,749 and 1,250 of 10,000 jobs), so a second worker added nothing.
"""

from __future__ import annotations

import sqlite3
import threading
import time

#: The first and the longest pause between two tries at the write lock (``begin``).
LOCK_POLL_MIN_SEC = 0.00005
LOCK_POLL_MAX_SEC = 0.001


def begin(conn: sqlite3.Connection, timeout_sec: float) -> None:
    """``BEGIN IMMEDIATE`` on ``conn`` (busy timeout 0), tried until it gets the write lock.

    Raises:
        sqlite3.OperationalError: the lock stayed taken for ``timeout_sec`` ("database is
        locked"), or any other error of the BEGIN.
    """
    pause, deadline = LOCK_POLL_MIN_SEC, 0.0
    while True:
        try:
            conn.execute("BEGIN IMMEDIATE")
            return
        except sqlite3.OperationalError as exc:
            if exc.sqlite_errorcode & 0xFF != sqlite3.SQLITE_BUSY:
                raise
            now = time.monotonic()
            if not deadline:
                deadline = now + timeout_sec
            elif now >= deadline:
                raise
        time.sleep(pause)
        pause = min(pause * 1.5, LOCK_POLL_MAX_SEC)


def begin_unhandled(conn: sqlite3.Connection, timeout_ms: int) -> None:
    """``begin`` on a connection whose busy handler waits ``timeout_ms``, turned off meanwhile.

    The handler is back on for the transaction's statements and the connection's later
    reads (a reader can meet a lock too, e.g. while another connection recovers the WAL).
    Before this, a pooled write (every write but a worker's common round and a one-by-one
    schedule, which go to the kept connection) waited in the handler, sleeping 1, 2, 5 ...
    ms a try whatever the holder did. The hot paths already polled: a drain's throughput
    did not measurably change (25.4 k -> 26.8 k jobs/s in one A/B, inside the noise).
    """
    conn.execute("PRAGMA busy_timeout=0")
    try:
        begin(conn, timeout_ms / 1000)
    finally:
        conn.execute(f"PRAGMA busy_timeout={timeout_ms}")


class HeldGate:
    """Shut while a thread of this process holds the file's write lock through it.

    A worker's round holds SQLite's write lock for every process on the file, so the
    worker's job threads wait at the gate (``wait_open``) instead of taking the CPU and
    the GIL from the round's statements. In a two-process drain at capacity 50 a round
    held the lock 30-40 us a job with the slots running beside it, and about 26 in one
    process alone; with the gate the drain went from 20.3 k to 23.6 k jobs/s (medians of
    a loaded host, 2026-12-07). Holders nest: the gate opens when the last lets go.
    """

    def __init__(self) -> None:
        self._holders = 0
        self._changed = threading.Condition()

    def shut(self) -> None:
        """One more holder: the gate is shut until it ``open``s."""
        with self._changed:
            self._holders += 1

    def open(self) -> None:
        """One holder less: the gate opens with the last."""
        with self._changed:
            self._holders -= 1
            if not self._holders:
                self._changed.notify_all()

    def wait_open(self, timeout: float) -> bool:
        """Wait, at most ``timeout`` s, until no holder keeps the gate shut; whether none does.

        An open gate is seen without the Condition: every slot passes here once a job,
        and the gate is open most of the time (a plain read of an int under the GIL; a
        round shutting it just after is the same race as just after a locked check).
        """
        if not self._holders:
            return True
        with self._changed:
            return self._changed.wait_for(lambda: not self._holders, timeout)
