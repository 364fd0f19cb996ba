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

#: The events' INSERT, one row per ``executemany`` parameter tuple (``EVENT_COLUMNS``).
INSERT_EVENTS = (
    f"INSERT INTO job_events ({', '.join(EVENT_COLUMNS)}) "
    f"VALUES ({', '.join('?' * len(EVENT_COLUMNS))})"
)
WAITING, LOCKED = str(Status.WAITING), str(Status.LOCKED)


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
            events = _events(at, by_key, done, taken, claim)
            if events:
                conn.executemany(INSERT_EVENTS, events)
        claimed = [] if take is None else [claims.claimed_from(take.read(r)) for r in taken]
        held = {id(by_key[r[0], r[1]]) for r in done}
        return [w for w in writes if id(w) not in held], claimed


def _events(
    at: int,
    by_key: dict[tuple[Any, int], AttemptWrite],
    done: Sequence[Any],
    taken: Sequence[Any],
    claim: tuple[Executable, dict[str, Any], str] | None,
) -> list[tuple[Any, ...]]:
    """The round's event rows: each applied write's (one per write), then each claim's.

    ``by_key``: the writes by stored job id and attempt. Ids go as the returned rows hold
    them: the stored form, which is what binding the read form would store again.
    """
    events: list[tuple[Any, ...]] = []
    if done:
        # One shape: every write has the same path, so the same statuses in its row.
        path = by_key[done[0][0], done[0][1]].path
        if len(path) >= 2:
            first, last, via = str(path[0]), str(path[-1]), via_of(path)
            for job_id, attempt, tenant_id in done:
                reason = by_key[job_id, attempt].reason
                events.append((job_id, tenant_id, first, last, None, at, reason, attempt, via))
    if claim is not None:
        reason = claim[2]
        events += [(r[0], r[1], WAITING, LOCKED, None, at, reason, r[4], None) for r in taken]
    return events
