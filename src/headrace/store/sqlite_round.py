"""SQLite's worker round on the driver connection: fenced writes, a claim, their events.

The round ``AttemptRepository.pump`` runs on SQLite when its writes share one shape and it
claims from at most one queue (the common round), with the same statements as the
SQLAlchemy path (the fenced ``UPDATE … FROM`` rows, the claim ``UPDATE … RETURNING``, the
events' INSERT), in one ``BEGIN IMMEDIATE`` transaction. Why not through SQLAlchemy: its
Core overhead per call (connection checkout events, ``begin``, an execution context per
``execute``, result and parameter processing per row, ``commit``) was a large part of a
round's CPU, all of it spent holding the file's write lock. Here each statement is compiled
once (``dialects.sqlite_driver``), and the events are made from the ids as the rows store
them, so they are not read into UUID strings and bound back.
"""

from __future__ import annotations

import functools
import itertools
import operator
import sqlite3
from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy import ClauseElement, Executable

from headrace.model.job import Claimed
from headrace.model.status import Status
from headrace.model.writes import AttemptWrite
from headrace.store import claims, tables
from headrace.store.database import Store, translated
from headrace.store.dialects import sqlite_driver, sqlite_lock, sqlite_transaction
from headrace.store.job_rows import EVENT_COLUMNS, via_of

WAITING, LOCKED = str(Status.WAITING), str(Status.LOCKED)
#: The most event rows one INSERT carries; a group is cut into powers of two up to it,
#: so a worker's rounds use a handful of statement texts (the driver caches 128).
EVENTS_PER_STATEMENT = 64


class DriverRound:
    """Runs rounds for one worker, its statements compiled on first use."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self._compiled: dict[Executable, sqlite_driver.Statement] = {}
        dialect = store.engine.dialect
        bind = tables.jobs.c.job_id.type.dialect_impl(dialect).bind_processor(dialect)
        #: A job id as the row stores it (and as the fenced UPDATE returns it): what a
        #: write's id is bound as, so the rows the fence let through are matched to
        #: their writes without reading each returned id back.
        self._stored_id: Callable[[str], Any] = bind if bind is not None else lambda v: v
        #: Shut while a round holds the file's write lock: the worker's slots wait it out.
        self.gate = sqlite_lock.HeldGate()

    def statement(self, stmt: Executable) -> sqlite_driver.Statement:
        """``stmt`` compiled for the driver, once per statement object."""
        found = self._compiled.get(stmt)
        if found is None:
            assert isinstance(stmt, ClauseElement)
            found = sqlite_driver.compile_statement(self.store.engine.dialect, stmt)
            self._compiled[stmt] = found
        return found

    def run(
        self,
        at: int,
        writes: Sequence[AttemptWrite],
        fenced: tuple[Executable, dict[str, Any]] | None,
        claim: tuple[Executable, dict[str, Any], str] | None,
    ) -> tuple[list[AttemptWrite], list[Claimed]]:
        """One round, one commit: the fenced writes, the claim, and the events of both.

        ``fenced`` (statement, parameters) applies ``writes`` (one shape, one write per
        job); ``claim`` (statement, parameters, reason) leases waiting jobs.

        Returns:
            The refused writes (their fence did not hold) and the jobs claimed.
        """
        write = None if fenced is None else self.statement(fenced[0])
        take = None if claim is None else self.statement(claim[0])
        write_params = () if fenced is None or write is None else write.params(fenced[1])
        take_params = () if claim is None or take is None else take.params(claim[1])
        by_key = {(self._stored_id(w.job_id), w.attempt): w for w in writes}
        with (
            self.store.writer_turn(),
            translated(),
            sqlite_transaction.transaction(self.store.engine, self.gate) as conn,
        ):
            done = [] if write is None else conn.execute(write.sql, write_params).fetchall()
            taken = [] if take is None else conn.execute(take.sql, take_params).fetchall()
            for shared, rows in _events(at, by_key, done, taken, claim):
                insert_events(conn, shared, rows)
        claimed = [] if take is None else claimed_rows(take, taken)
        if len(done) == len(writes):
            # Each returned row is a distinct (job, attempt) of a write: all were applied.
            return [], claimed
        held = {id(by_key[r[0], r[1]]) for r in done}
        return [w for w in writes if id(w) not in held], claimed


def claimed_rows(take: sqlite_driver.Statement, taken: Sequence[Any]) -> list[Claimed]:
    """The jobs a claim took, from its rows as the driver returns them (``CLAIMED_COLUMNS``).

    What ``claims.claimed_from(take.read(row))`` makes, without the generic read's copy of
    each row: the ids read by the statement's own UUID conversion, a round's few tenants
    read once each. On the pump thread, after the lock: the generic read and copy took a
    third of a SQLite worker's pump in a drain at capacity 50 (py-spy, GIL samples).
    """
    read_id = take.reads[0] or str
    read_tenant = take.reads[1] or str
    tenants: dict[Any, str] = {}
    out = []
    for r in taken:
        tenant = tenants.get(r[1])
        if tenant is None:
            tenant = tenants[r[1]] = read_tenant(r[1])
        out.append(claims.claimed_from(r, read_id(r[0]), tenant))
    return out


def _events(
    at: int,
    by_key: dict[tuple[Any, int], AttemptWrite],
    done: Sequence[Any],
    taken: Sequence[Any],
    claim: tuple[Executable, dict[str, Any], str] | None,
) -> list[tuple[tuple[Any, ...], list[tuple[Any, ...]]]]:
    """The round's event rows, in groups sharing their statuses, time and ``via``.

    Each group is ``((from_status, to_status, at_ms, via), [(job_id, tenant_id, reason,
    attempt), ...])``: the applied writes' (one event per write), then the claims'.
    ``by_key``: the writes by stored job id and attempt. Ids go as the returned rows hold
    them: the stored form, which is what binding the read form would store again.
    """
    groups: list[tuple[tuple[Any, ...], list[tuple[Any, ...]]]] = []
    if done:
        # One shape: every write has the same path, so the same statuses in its row.
        path = by_key[done[0][0], done[0][1]].path
        if len(path) >= 2:
            rows = [
                (job_id, tenant_id, by_key[job_id, attempt].reason, attempt)
                for job_id, attempt, tenant_id in done
            ]
            groups.append(((str(path[0]), str(path[-1]), at, via_of(path)), rows))
    if claim is not None and taken:
        reason = claim[2]
        groups.append(((WAITING, LOCKED, at, None), [(r[0], r[1], reason, r[4]) for r in taken]))
    return groups


def insert_events(
    conn: sqlite3.Connection, shared: tuple[Any, ...], rows: Sequence[tuple[Any, ...]]
) -> None:
    """Insert event rows that share ``(from_status, to_status, at_ms, via)``.

    ``rows``: ``(job_id, tenant_id, reason, attempt)`` each. The shared values are bound
    once a statement, and so are the tenant and the reason when every row has the same
    (a round's claims have one reason, and most rounds one tenant): then a row binds its
    id and attempt only. Multi-row ``INSERT … SELECT … FROM (VALUES …)`` statements of
    64, 32, … rows, not one ``executemany`` step per row (50 claim events: 2.5 -> 1.0 µs
    a row, most of it the driver's per-row binding and stepping, all of it inside the
    write lock).
    """
    if not rows:
        return
    first = rows[0]
    lean = len(set(map(_TENANT, rows))) == 1 and len(set(map(_REASON, rows))) == 1
    if lean:
        # In the text's order of their ``?``: tenant, from, to, at, reason, via.
        shared = (first[1], shared[0], shared[1], shared[2], first[2], shared[3])
        rows = list(map(_ID_ATTEMPT, rows))
    start = 0
    while start < len(rows):
        count = min(len(rows) - start, EVENTS_PER_STATEMENT)
        count = 1 << (count.bit_length() - 1)  # the largest power of two that fits
        flat = itertools.chain.from_iterable(rows[start : start + count])
        conn.execute(_events_sql(count, lean), (*shared, *flat))
        start += count


_TENANT = operator.itemgetter(1)
_REASON = operator.itemgetter(2)
_ID_ATTEMPT = operator.itemgetter(0, 3)


@functools.cache
def _events_sql(count: int, lean: bool = False) -> str:
    """``insert_events``' statement for ``count`` rows (``EVENT_COLUMNS``' order).

    ``lean``: the rows hold ``(job_id, attempt)``, and the tenant and reason are shared.
    """
    picks = {
        "job_id": "column1",
        "tenant_id": "?" if lean else "column2",
        "from_status": "?",
        "to_status": "?",
        "user_id": "NULL",
        "at_ms": "?",
        "reason": "?" if lean else "column3",
        "attempt": "column2" if lean else "column4",
        "via": "?",
    }
    assert tuple(picks) == EVENT_COLUMNS
    # The shared values' ``?`` come first in the text, so they are bound first, in the
    # picks' order: ``(from_status, to_status, at_ms, via)``, or, ``lean``, ``(tenant_id,
    # from_status, to_status, at_ms, reason, via)``.
    values = ", ".join(["(?, ?)" if lean else "(?, ?, ?, ?)"] * count)
    return (
        f"INSERT INTO job_events ({', '.join(EVENT_COLUMNS)}) "
        f"SELECT {', '.join(picks.values())} FROM (VALUES {values})"
    )
