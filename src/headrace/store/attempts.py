"""The worker's side of the store: claims (leases), fenced writes, heartbeats, the reaper."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import (
    Column,
    ColumnElement,
    Connection,
    Executable,
    FromClause,
    Integer,
    String,
    Text,
    and_,
    bindparam,
    insert,
    literal_column,
    or_,
    select,
    true,
    update,
)
from sqlalchemy.sql.dml import ReturningUpdate

from headrace import defaults
from headrace.model import labels
from headrace.model import status as machine
from headrace.model.clock import now_ms
from headrace.model.job import Claimed
from headrace.model.status import Status
from headrace.model.writes import AttemptWrite
from headrace.store import (
    claims,
    event_sql,
    holdings,
    pg_round,
    sqlite_round,
    tables,
    write_shapes,
)
from headrace.store.database import Store
from headrace.store.dialects.sqlite_lock import HeldGate
from headrace.store.job_rows import event_row, insert_rows
from headrace.store.leases import LeaseRepository
from headrace.store.maintenance import MaintenanceRepository
from headrace.store.predicates import AT as _AT
from headrace.store.predicates import IS_HELD, LOCKED, WAITING, labels_filter
from headrace.store.write_shapes import MAX_BATCH, Shape

J = tables.jobs
E = tables.job_events
#: The reason of each write, carried beside its row when its events are made in SQL.
REASON = Column("reason", Text)


class AttemptRepository(holdings.Holdings):
    """Claims, fenced writes and lease upkeep for one worker process."""

    def __init__(
        self,
        store: Store,
        worker_id: str,
        origin: str | None = None,
        offered: labels.Labels = (),
    ) -> None:
        self.store = store
        self.worker_id = worker_id
        #: Claim only jobs of this origin (an embedded client's worker), else any job;
        #: and only jobs whose required labels this worker offers.
        self._origin_filter: tuple[ColumnElement[bool], ...] = (
            () if origin is None else (J.c.origin == literal_column(claims.quoted(origin), String),)
        ) + (
            labels_filter(offered),
            # A job balancing placed on another worker waits for it, until the placement lapses.
            or_(J.c.placed_on.is_(None), J.c.placed_on == worker_id, J.c.placed_until_ms < _AT),
        )
        #: The reason a claim's events give, the same for every claim of this worker.
        self._claim_reason = f"claimed by worker {worker_id}"
        #: Hot-path statements, built once (see ``claim_statement``).
        self._statements: dict[tuple[Any, ...], Executable] = {}
        #: Whether claims and fenced writes insert their own events in the same statement
        #: (PostgreSQL): no event rows built, encoded and sent from Python, and no INSERT
        #: of their own. Elsewhere (SQLite, in-process) events are rows sent with the round.
        self._events_in_sql = store.dialect.dml_in_cte
        #: SQLite: the common round on the driver connection (``sqlite_round``).
        self._driver = None if store.is_postgresql else sqlite_round.DriverRound(store)
        #: PostgreSQL: the common round's statement (``pg_round``).
        self.rounds = pg_round.RoundSql(
            store,
            worker_id,
            self._origin_filter,
            lambda path, names, logged: self._shape_update(path, names, logged=logged),
        )
        self.leases = LeaseRepository(store, worker_id)
        self.maintenance = MaintenanceRepository(store)

    def wait_out_round(self, timeout: float) -> None:
        """Return when this worker's round does not hold SQLite's write lock, or in ``timeout`` s.

        At once on PostgreSQL, which has no such lock. A slot calls this before it starts
        a job (``sqlite_lock.HeldGate``).
        """
        gate = self.round_gate
        if gate is not None:
            gate.wait_open(timeout)

    @property
    def round_gate(self) -> HeldGate | None:
        """Shut while this worker's round holds SQLite's write lock; None on PostgreSQL."""
        return None if self._driver is None else self._driver.gate

    # -- claiming -----------------------------------------------------------------------

    def claim(
        self, queue: str, types: Sequence[str], limit: int, lease_sec: float
    ) -> list[Claimed]:
        """Lease up to ``limit`` waiting jobs of ``queue`` whose type this worker runs."""
        if limit <= 0 or not types:
            return []
        with self.store.write() as conn:
            return self.claim_in(conn, queue, types, limit, lease_sec)

    def claim_in(
        self, conn: Connection, queue: str, types: Sequence[str], limit: int, lease_sec: float
    ) -> list[Claimed]:
        """``claim`` inside the caller's write transaction."""
        claimed, events = self._claim(conn, queue, types, limit, lease_sec)
        if events:
            insert_rows(self.store, conn, tables.job_events, events)
        return claimed

    def _claim(
        self, conn: Connection, queue: str, types: Sequence[str], limit: int, lease_sec: float
    ) -> tuple[list[Claimed], list[dict[str, Any]]]:
        """The claim without its events: the claimed jobs, and the events to insert."""
        if limit <= 0 or not types:
            return [], []
        at = now_ms()
        reason = self._claim_reason
        params: dict[str, Any] = {
            "p_at": at,
            "p_lease_until": at + int(lease_sec * 1000),
            "p_limit": limit,
        }
        if self._events_in_sql:
            params["p_reason"] = reason
        rows = conn.execute(self.claim_statement(queue, tuple(types)), params).all()
        events = (
            []
            if self._events_in_sql
            else [
                {
                    "job_id": str(r[0]),
                    "tenant_id": str(r[1]),
                    "from_status": WAITING,
                    "to_status": LOCKED,
                    "user_id": None,
                    "at_ms": at,
                    "reason": reason,
                    "attempt": r[4],
                    "via": None,
                }
                for r in rows
            ]
        )
        claimed = [claims.claimed_from(r) for r in rows]
        return claimed, events

    def claim_statement(self, queue: str, types: tuple[str, ...]) -> Executable:
        """The claim ``UPDATE`` for a queue and set of types, built once and reused.

        Reusing one statement object spares SQLAlchemy building and hashing it each
        round; what varies (time, lease, limit) is bound at execution.
        """
        key = ("claim", queue, types)
        stmt = self._statements.get(key)
        if stmt is not None:
            return stmt
        claim = claims.claim_update(
            self.store.dialect, self.worker_id, self._origin_filter, queue, types
        )
        built: Executable = claim
        if self._events_in_sql:
            built = event_sql.logging_events(
                claim, (Status.WAITING, Status.LOCKED), bindparam("p_reason", type_=Text), _AT
            )
        self._statements[key] = built
        return built

    def pump(
        self,
        writes: Sequence[AttemptWrite],
        logs: Sequence[dict[str, Any]],
        claims: Sequence[tuple[str, Sequence[str], int]],
        lease_sec: float,
    ) -> tuple[list[AttemptWrite], list[Claimed]]:
        """Apply writes and claim ``(queue, types, limit)`` in one write transaction.

        One transaction (one commit, one write lock on SQLite) per round of a worker
        instead of one for its writes and one per queue it claims from, and one INSERT
        for all the round's events. On PostgreSQL the common round (writes of one shape,
        one queue) is a single statement (``_pump_in_one``).

        Returns:
            The refused writes (as ``apply``) and the jobs claimed, queue by queue.
        """
        claim = claims[0] if len(claims) == 1 and claims[0][1] and claims[0][2] > 0 else None
        if not logs and len(claims) <= 1 and (writes or claim):
            shape = write_shapes.one_shape(writes) if writes else None
            if shape is not None or not writes:
                if self._events_in_sql:
                    return self._pump_in_one(writes, shape, claim, lease_sec)
                if self._driver is not None:
                    return self._pump_on_driver(writes, shape, claim, lease_sec)
        with self.store.write() as conn:
            refused, events = self._apply(conn, writes, logs)
            claimed: list[Claimed] = []
            for queue, types, limit in claims:
                more, claim_events = self._claim(conn, queue, types, limit, lease_sec)
                claimed += more
                events += claim_events
            if events:
                insert_rows(self.store, conn, tables.job_events, events)
        return refused, claimed

    def _pump_on_driver(
        self,
        writes: Sequence[AttemptWrite],
        shape: Shape | None,
        claim: tuple[str, Sequence[str], int] | None,
        lease_sec: float,
    ) -> tuple[list[AttemptWrite], list[Claimed]]:
        """``pump`` on SQLite's driver connection (``sqlite_round``), same statements."""
        assert self._driver is not None
        at = now_ms()
        fenced = None
        if shape is not None:
            stmt = self._shape_statement(shape[0], shape[1], single=False)
            fenced = (stmt, {"p_at": at, **self._rows_params(writes, *shape)})
        taking = None
        if claim is not None:
            queue, types, limit = claim
            params = {"p_at": at, "p_lease_until": at + int(lease_sec * 1000), "p_limit": limit}
            taking = (self.claim_statement(queue, tuple(types)), params, self._claim_reason)
        return self._driver.run(at, writes, fenced, taking)

    def _pump_in_one(
        self,
        writes: Sequence[AttemptWrite],
        shape: Shape | None,
        claim: tuple[str, Sequence[str], int] | None,
        lease_sec: float,
    ) -> tuple[list[AttemptWrite], list[Claimed]]:
        """``pump`` as one statement, committed on its own: one round trip, not four.

        For a round whose writes share one shape (one write per job) and that claims from
        at most one queue, on a database whose statements can carry several data-modifying
        CTEs (PostgreSQL): the fenced UPDATE, the claim and the events of both, in one
        statement, which is atomic on its own. The writes touch rows this worker holds,
        the claim only waiting ones, so the two never meet.
        """
        at = now_ms()
        queue, types, limit = claim if claim is not None else ("", (), 0)
        sql, fixed = self.rounds.sql(shape, queue, tuple(types) if claim is not None else None)
        params: dict[str, Any] = {**fixed, "p_at": at}
        if shape is not None:
            params.update(pg_round.rows_params(writes, shape[0]))
        if claim is not None:
            params.update(
                p_lease_until=at + int(lease_sec * 1000),
                p_limit=limit,
                p_reason=self._claim_reason,
            )
        rows = self.store.prepared_rows(sql, params)
        # Rows say what they are by their first column (see ``RoundSql.sql``).
        done = {(str(r[1]), r[claims.ATTEMPT + 1]) for r in rows if r[0] == pg_round.WRITTEN}
        refused = [w for w in writes if (w.job_id, w.attempt) not in done]
        return refused, [claims.claimed_from(r[1:]) for r in rows if r[0] == pg_round.CLAIMED]

    # -- fenced writes ------------------------------------------------------------------

    def apply(
        self, writes: Sequence[AttemptWrite], logs: Sequence[dict[str, Any]] = ()
    ) -> list[AttemptWrite]:
        """Apply writes (and append log lines) in one transaction; return the refused writes.

        A write applies only if the row still has the write's attempt, is locked by this
        worker, and is in the status the write expects: a worker that lost its lease can
        never overwrite the attempt that replaced it.
        """
        if not writes and not logs:
            return []
        with self.store.write() as conn:
            return self.apply_in(conn, writes, logs)

    def apply_in(
        self,
        conn: Connection,
        writes: Sequence[AttemptWrite],
        logs: Sequence[dict[str, Any]] = (),
    ) -> list[AttemptWrite]:
        """``apply`` inside the caller's write transaction."""
        refused, events = self._apply(conn, writes, logs)
        if events:
            insert_rows(self.store, conn, tables.job_events, events)
        return refused

    def _apply(
        self,
        conn: Connection,
        writes: Sequence[AttemptWrite],
        logs: Sequence[dict[str, Any]] = (),
    ) -> tuple[list[AttemptWrite], list[dict[str, Any]]]:
        """The writes and logs without their events: the refused writes, and the events.

        Writes of the same shape (expected status, new status, columns written) go in one
        fenced ``UPDATE ... FROM (rows) RETURNING``, which returns the rows whose fence
        held; events are made for those only. A job's writes apply in order: its second
        write goes in a later statement than its first.
        """
        at = now_ms()
        if logs:
            # Before the writes: a line logged before its attempt's end write is fenced
            # against the attempt as it was when the line was logged (still held).
            self._insert_held_logs(conn, logs)
        applied: set[int] = set()
        for batch in write_shapes.rounds(writes):
            shapes: dict[tuple[Any, ...], list[int]] = {}
            for i in batch:
                w = writes[i]
                key = (w.path, *w.values)
                shapes.setdefault(key, []).append(i)
            for indexes in shapes.values():
                for start in range(0, len(indexes), MAX_BATCH):
                    chunk = indexes[start : start + MAX_BATCH]
                    done = self._apply_shape(conn, [writes[i] for i in chunk], at)
                    applied.update(
                        i for i in chunk if (writes[i].job_id, writes[i].attempt) in done
                    )
        events: list[dict[str, Any]] = []
        refused: list[AttemptWrite] = []
        for i, w in enumerate(writes):
            if i not in applied:
                refused.append(w)
                continue
            if self._events_in_sql or len(w.path) < 2:
                continue
            events.append(
                event_row(
                    w.job_id,
                    w.tenant_id,
                    w.path,
                    user_id=None,
                    at_ms=at,
                    reason=w.reason,
                    attempt=w.attempt,
                )
            )
        return refused, events

    def _insert_held_logs(self, conn: Connection, logs: Sequence[dict[str, Any]]) -> int:
        """Insert the log lines of attempts this worker still holds; drop the others.

        Fenced like every other write of an attempt: a line from an attempt that lost its
        lease (the job was taken back, or runs again elsewhere) is not stored. The held
        rows are locked for share, so the reaper (``SKIP LOCKED``) cannot take one back
        between this check and the insert.
        """
        ids = list({str(row["job_id"]) for row in logs})
        held: set[tuple[str, int]] = set()
        for start in range(0, len(ids), MAX_BATCH):
            query = self.held_query().where(J.c.job_id.in_(ids[start : start + MAX_BATCH]))
            if self.store.is_postgresql:
                query = query.with_for_update(read=True)
            held.update((str(r[0]), r[1]) for r in conn.execute(query))
        kept = [row for row in logs if (str(row["job_id"]), row["attempt"]) in held]
        if kept:
            conn.execute(insert(tables.job_logs), kept)
        return len(kept)

    def _apply_shape(
        self, conn: Connection, writes: Sequence[AttemptWrite], at: int
    ) -> set[tuple[str, int]]:
        """Apply same-shaped writes (one job each) in one fenced UPDATE; return what held."""
        first = writes[0]
        names = tuple(first.values)
        if len(writes) == 1 and not self._events_in_sql:
            stmt = self._shape_statement(first.path, names, single=True)
            params = {f"p_{n}": v for n, v in first.values.items()}
            params.update(p_at=at, p_job_id=first.job_id, p_attempt=first.attempt)
            done = conn.execute(stmt, params).rowcount == 1
            return {(first.job_id, first.attempt)} if done else set()
        stmt = self._shape_statement(first.path, names, single=False)
        params = {"p_at": at, **self._rows_params(writes, first.path, names)}
        return {(str(r[0]), r[1]) for r in conn.execute(stmt, params)}

    def _rows_params(
        self, writes: Sequence[AttemptWrite], path: Sequence[Status], names: tuple[str, ...]
    ) -> dict[str, Any]:
        """The parameters of ``_shape_update``'s rows table (and their count, see ``_by_key``)."""
        params: dict[str, Any] = {"v_rows": self._rows_value(writes, path, names)}
        if self.store.is_postgresql:
            params["v_count"] = len(writes)
        return params

    def _rows_value(
        self, writes: Sequence[AttemptWrite], path: Sequence[Status], names: tuple[str, ...]
    ) -> str:
        """The row table's value for same-shaped writes (with reasons where SQL logs)."""
        columns = [J.c.job_id, J.c.attempt, *(J.c[n] for n in names)]
        rows = [(w.job_id, w.attempt, *(w.values[n] for n in names)) for w in writes]
        if self._events_in_sql and path:
            columns.append(REASON)
            rows = [(*r, w.reason) for r, w in zip(rows, writes, strict=True)]
        value: str = self.store.dialect.rows_value(self.store.engine.dialect, columns, rows)
        return value

    def _shape_statement(
        self, path: Sequence[Status], names: tuple[str, ...], *, single: bool
    ) -> Executable:
        """The fenced UPDATE for writes of one shape, built once and reused.

        Single: one job by bound id and attempt. Many: the rows come as one parameter
        (the dialect's row table), so the statement is the same whatever their number;
        where events are made in SQL, each row carries its write's reason too, and the
        statement inserts the event row of ``path`` for each row whose fence held.
        """
        key = ("apply", tuple(path), names, single)
        stmt = self._statements.get(key)
        if stmt is not None:
            return stmt
        if single:
            fixed, guard = self._fence(path, names)
            stmt = (
                update(J)
                .where(
                    J.c.job_id == bindparam("p_job_id", type_=J.c.job_id.type),
                    J.c.attempt == bindparam("p_attempt", type_=Integer),
                    *guard,
                )
                .values({**{n: bindparam(f"p_{n}", type_=J.c[n].type) for n in names}, **fixed})
            )
        elif self._events_in_sql and path:
            change = self._shape_update(tuple(path), names, logged=True)
            stmt = event_sql.logging_events(change, tuple(path), None, _AT)
        else:
            stmt = self._shape_update(tuple(path), names, logged=False)
        self._statements[key] = stmt
        return stmt

    def _fence(
        self, path: Sequence[Status], names: tuple[str, ...]
    ) -> tuple[dict[str, Any], list[ColumnElement[bool]]]:
        """What a write of this shape sets besides its values, and the fence it must pass."""
        fixed: dict[str, Any] = {"updated_at_ms": _AT}
        guard: list[ColumnElement[bool]] = [J.c.locked_by == self.worker_id]
        if path:
            start, end = path[0], path[-1]
            guard.append(J.c.status == str(start))
            fixed["status"] = str(end)
            if end in machine.FINAL and "finished_at_ms" not in names:
                fixed["finished_at_ms"] = _AT
            if end not in machine.HELD and "lease_expires_ms" not in names:
                fixed["lease_expires_ms"] = None
        else:
            guard.append(IS_HELD)
        return fixed, guard

    def _shape_update(
        self, path: tuple[Status, ...], names: tuple[str, ...], *, logged: bool
    ) -> ReturningUpdate[Any]:
        """The fenced ``UPDATE … FROM`` the dialect's row table for same-shaped writes.

        Returns job id and attempt of each row whose fence held, and, when ``logged``
        (its events made in SQL), its tenant and the write's reason (a row column).
        """
        fixed, guard = self._fence(path, names)
        columns = [J.c.job_id, J.c.attempt, *(J.c[n] for n in names)]
        v: FromClause = self.store.dialect.rows_table(
            "v", [*columns, REASON] if logged else columns
        )
        if self.store.is_postgresql:
            v, guard = _by_key(v, guard)
        else:
            # SQLite peeks at the bound status, finds the fence implies ``ix_jobs_held``'s
            # predicate, and walked the worker's held jobs for every row (8.8 -> 6.5 µs
            # a job at capacity 50): as one ``IS 1`` term the rows are found by key.
            guard = [and_(*guard).is_(true())]
        change = (
            update(J)
            .where(J.c.job_id == v.c.job_id, J.c.attempt == v.c.attempt, *guard)
            .values({**{n: v.c[n] for n in names}, **fixed})
        )
        if logged:
            return change.returning(J.c.job_id, J.c.attempt, J.c.tenant_id, v.c.reason)
        return change.returning(J.c.job_id, J.c.attempt, J.c.tenant_id)

    def heartbeat(self, lease_sec: float, job_ids: Sequence[str]) -> None:
        """Renew the named jobs' leases and this worker's liveness (see ``LeaseRepository``)."""
        self.leases.heartbeat(lease_sec, job_ids)

    def maintain(self, lease_sec: float = defaults.LEASE_SEC) -> int:
        """Elected maintenance (see ``MaintenanceRepository.run``); jobs that changed status."""
        return self.maintenance.run(lease_sec)


def _by_key(
    rows: FromClause, guard: Sequence[ColumnElement[bool]]
) -> tuple[FromClause, list[ColumnElement[bool]]]:
    """The rows table and fence of a fenced ``UPDATE``, so PostgreSQL finds rows by key.

    The planner, left alone, estimated ``json_to_recordset`` at 100 rows and this worker's
    held jobs at a few, and answered the join by scanning ``ix_jobs_held`` for the
    worker's id: that scan walks every index entry the worker's past jobs left (each
    status change adds one, until a vacuum), 300 buffers and half the round's time
    after 5,000 jobs. So the rows come with their count (``LIMIT v_count``, exact), and
    the fence is one ``(…) IS TRUE`` test, the same condition but one no index serves
    nor implies a partial index's predicate: the rows are found by primary key, a few
    buffers each, however long the worker has run.
    """
    counted = select(*rows.c).limit(bindparam("v_count", type_=Integer)).subquery("v")
    return counted, [and_(*guard).is_(true())]
