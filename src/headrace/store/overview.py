"""Read-only aggregates the dashboard shows: status counts, throughput, stuck jobs, search.

Every query filters by tenant. Nothing here writes.
"""

from __future__ import annotations

import builtins
import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, String, func, literal_column, or_, select, union_all

from headrace.model import status as machine
from headrace.model.job import Job, Page
from headrace.model.status import Status
from headrace.store import codec, tables
from headrace.store.database import Store
from headrace.store.job_rows import ORDERABLE, job_from_row
from headrace.store.predicates import COMPLETED, by_status, count_by_status

J = tables.jobs
#: Statuses a job waits in before a worker holds it.
WAITING = (Status.WAITING, Status.RESUMING, Status.RETRYING)
NOT_COMPLETED = [s for s in Status if s is not Status.COMPLETED]


@dataclass(frozen=True, slots=True)
class JobFilter:
    """What a job search keeps: every field set must match."""

    statuses: Sequence[Status] = ()
    type_id: str | None = None
    queue: str | None = None
    text: str | None = None
    since_ms: int | None = None
    until_ms: int | None = None
    #: A tag: the jobs carrying it or one of its children (``a`` matches ``a/b``).
    tag: str | None = None
    project: str | None = None


@dataclass(frozen=True, slots=True)
class DataInfo:
    """A named data structure and its size (a Stream's per partition end offsets)."""

    kind: str
    name: str
    size: int
    partitions: int = 0
    end_offsets: tuple[int, ...] = ()
    closed: bool = False


@dataclass(frozen=True, slots=True)
class SnapshotInfo:
    """A stored snapshot of a job (its state is not read)."""

    snapshot_id: int
    run_count: int
    name: str | None
    created_at_ms: int
    size_bytes: int


@dataclass(frozen=True, slots=True)
class LogLine:
    """One stored log line with its id (ids grow: ``after`` pages forward from one)."""

    log_id: int
    at_ms: int
    level: str
    message: str
    attempt: int


class OverviewRepository:
    """Aggregates over one tenant's jobs and data structures."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def status_counts(self, tenant_id: str) -> dict[str, int]:
        """How many of the tenant's jobs are in each status (statuses with none left out).

        One statement (one snapshot): the tenant's jobs, and those of each partial index
        by status (``predicates.GROUPS``) per status; ``completed`` is what is left.
        """
        everyone = literal_column("''", String).label("status")
        parts = [select(everyone, func.count()).where(J.c.tenant_id == tenant_id)]
        parts += [
            select(J.c.status, func.count()).where(term).group_by(J.c.status)
            for term in by_status(NOT_COMPLETED, tenant_id, self.store.dialect)
        ]
        with self.store.read() as conn:
            rows = [(str(s), int(n)) for s, n in conn.execute(union_all(*parts))]
        total = sum(n for s, n in rows if not s)
        counts = {s: n for s, n in rows if s and n}
        counts[COMPLETED] = total - sum(counts.values())
        return {s: n for s, n in counts.items() if n}

    def finished_per_minute(self, tenant_id: str, since_ms: int) -> list[tuple[int, str, int]]:
        """``(minute start ms, final status, count)`` of jobs that ended since ``since_ms``."""
        minute = (J.c.finished_at_ms // 60_000).label("minute")
        query = (
            select(minute, J.c.status, func.count())
            .where(J.c.tenant_id == tenant_id, J.c.finished_at_ms >= since_ms)
            .group_by(minute, J.c.status)
        )
        with self.store.read() as conn:
            return [(int(m) * 60_000, str(s), int(n)) for m, s, n in conn.execute(query)]

    def oldest_waiting(self, tenant_id: str) -> dict[str, int]:
        """Per queue, the scheduling time of the oldest job waiting on it."""
        parts = [
            select(J.c.queue, func.min(J.c.scheduled_at_ms).label("at"))
            .where(term)
            .group_by(J.c.queue)
            for term in by_status(WAITING, tenant_id, self.store.dialect)
        ]
        found = union_all(*parts).subquery()
        query = select(found.c.queue, func.min(found.c.at)).group_by(found.c.queue)
        with self.store.read() as conn:
            return {str(q): int(at) for q, at in conn.execute(query)}

    def stuck(
        self, tenant_id: str, at_ms: int, storm_retries: int, limit: int
    ) -> builtins.list[Job]:
        """Held jobs whose lease expired, and unfinished jobs retried ``storm_retries`` times.

        A lost lease counts as a retry here (it is kept apart in ``lease_losses``): a job
        that keeps killing its workers is as stuck as one that keeps failing.
        """
        dialect = self.store.dialect
        storm = J.c.retries + J.c.lease_losses >= storm_retries
        (held,) = by_status(machine.HELD, tenant_id, dialect)
        parts = [select(J).where(held, or_(J.c.lease_expires_ms < at_ms, storm))]
        unfinished = [s for s in Status if s not in machine.FINAL and s not in machine.HELD]
        parts += [
            select(J).where(term, storm) for term in by_status(unfinished, tenant_id, dialect)
        ]
        found = union_all(*parts).subquery()
        query = select(found).order_by(found.c.updated_at_ms.desc(), found.c.job_id).limit(limit)
        with self.store.read() as conn:
            return [job_from_row(r) for r in conn.execute(query).mappings()]

    def search(
        self,
        tenant_id: str,
        where: JobFilter,
        *,
        order: str,
        descending: bool,
        page: int,
        limit: int,
    ) -> Page[Job]:
        """One page of the tenant's jobs that match ``where``, in order."""
        clauses = _clauses(tenant_id, where)
        column = ORDERABLE[order]
        ordering = (column.desc(), J.c.job_id.desc()) if descending else (column, J.c.job_id)
        others = _clauses(tenant_id, dataclasses.replace(where, statuses=()))
        counted = (
            count_by_status(others[1:], where.statuses, tenant_id, self.store.dialect)
            if where.statuses
            else select(func.count()).select_from(J).where(*clauses)
        )
        with self.store.read() as conn:
            total = conn.execute(counted).scalar_one()
            rows = conn.execute(
                select(J)
                .where(*clauses)
                .order_by(*ordering)
                .limit(limit)
                .offset((page - 1) * limit)
            ).mappings()
            items = [job_from_row(r) for r in rows]
        return Page(items=items, total=int(total), page=page, limit=limit)

    def changed(self, tenant_id: str, since_ms: int, limit: int) -> builtins.list[Job]:
        """The tenant's jobs updated at or after ``since_ms``, oldest change first."""
        query = (
            select(J)
            .where(J.c.tenant_id == tenant_id, J.c.updated_at_ms >= since_ms)
            .order_by(J.c.updated_at_ms, J.c.job_id)
            .limit(limit)
        )
        with self.store.read() as conn:
            return [job_from_row(r) for r in conn.execute(query).mappings()]

    def log_tail(
        self, tenant_id: str, job_id: str, after: int | None, limit: int
    ) -> tuple[builtins.list[LogLine], int]:
        """Lines after log id ``after`` (else the last ``limit``), oldest first; and the total."""
        L = tables.job_logs
        mine = (L.c.job_id == job_id, L.c.tenant_id == tenant_id)
        columns = (L.c.log_id, L.c.at_ms, L.c.level, L.c.message, L.c.attempt)
        if after is None:
            query = select(*columns).where(*mine).order_by(L.c.log_id.desc()).limit(limit)
        else:
            query = (
                select(*columns).where(*mine, L.c.log_id > after).order_by(L.c.log_id).limit(limit)
            )
        with self.store.read() as conn:
            lines = [LogLine(int(i), int(at), str(lv), str(m), int(a or 0))
                     for i, at, lv, m, a in conn.execute(query)]  # fmt: skip
            total = conn.execute(select(func.count()).select_from(L).where(*mine)).scalar_one()
        if after is None:
            lines.reverse()
        return lines, int(total)

    def data_structures(self, tenant_id: str) -> builtins.list[DataInfo]:
        """The tenant's Lists, Maps and Streams with their sizes, by kind and name."""
        lists, maps, entries = tables.lists, tables.maps, tables.map_entries
        parts = tables.stream_partitions
        found: builtins.list[DataInfo] = []
        with self.store.read() as conn:
            for name, length in conn.execute(
                select(lists.c.name, lists.c.length)
                .where(lists.c.tenant_id == tenant_id)
                .order_by(lists.c.name)
            ):
                found.append(DataInfo("list", str(name), int(length)))
            sizes: dict[str, int] = dict(
                conn.execute(
                    select(entries.c.name, func.count())
                    .where(entries.c.tenant_id == tenant_id)
                    .group_by(entries.c.name)
                ).all()
            )
            for (name,) in conn.execute(
                select(maps.c.name).where(maps.c.tenant_id == tenant_id).order_by(maps.c.name)
            ):
                found.append(DataInfo("map", str(name), int(sizes.get(name, 0))))
            streams: dict[str, builtins.list[Any]] = {}
            for name, _partition, next_offset, closed in conn.execute(
                select(parts.c.name, parts.c.partition, parts.c.next_offset, parts.c.closed)
                .where(parts.c.tenant_id == tenant_id)
                .order_by(parts.c.name, parts.c.partition)
            ):
                streams.setdefault(str(name), []).append((int(next_offset), bool(closed)))
        for name, partitions in streams.items():
            ends = tuple(o for o, _c in partitions)
            found.append(
                DataInfo(
                    "stream",
                    name,
                    sum(ends),
                    partitions=len(partitions),
                    end_offsets=ends,
                    closed=all(c for _o, c in partitions),
                )
            )
        return found

    def snapshots(self, tenant_id: str, job_id: str) -> builtins.list[SnapshotInfo]:
        """The job's stored snapshots (periodic and exported), newest first."""
        S = tables.snapshots
        query = (
            select(
                S.c.snapshot_id,
                S.c.run_count,
                S.c.name,
                S.c.created_at_ms,
                func.length(S.c.state),
            )
            .where(S.c.tenant_id == tenant_id, S.c.job_id == job_id)
            .order_by(S.c.snapshot_id.desc())
        )
        with self.store.read() as conn:
            return [
                SnapshotInfo(int(i), int(r), n, int(at), int(size or 0))
                for i, r, n, at, size in conn.execute(query)
            ]


def _clauses(tenant_id: str, where: JobFilter) -> list[ColumnElement[bool]]:
    clauses: list[ColumnElement[bool]] = [J.c.tenant_id == tenant_id]
    if where.statuses:
        clauses.append(J.c.status.in_([str(s) for s in where.statuses]))
    if where.type_id is not None:
        clauses.append(J.c.type == where.type_id)
    if where.queue is not None:
        clauses.append(J.c.queue == where.queue)
    if where.text:
        pattern = f"%{_escape(where.text)}%"
        clauses.append(
            or_(
                func.lower(J.c.name).like(pattern.lower(), escape="\\"),
                func.lower(J.c.type).like(pattern.lower(), escape="\\"),
            )
        )
    if where.project is not None:
        clauses.append(J.c.project == where.project)
    if where.tag is not None:
        clauses.append(_tagged(where.tag))
    if where.since_ms is not None:
        clauses.append(J.c.scheduled_at_ms >= where.since_ms)
    if where.until_ms is not None:
        clauses.append(J.c.scheduled_at_ms < where.until_ms)
    return clauses


def _escape(text: str) -> str:
    """``text`` as a literal inside a LIKE pattern (a backslash escapes)."""
    return text.replace("\\", "\\\\").replace("%", r"\%").replace("_", r"\_")


def _tagged(tag: str) -> ColumnElement[bool]:
    """Jobs whose JSON list of tags holds ``tag`` or a child of it (``tag/...``).

    The column is compact JSON (``["a","b/c"]``): an element's quotes follow ``[`` or
    ``,`` and precede ``,`` or ``]``, and a quote inside an element is escaped, so these
    needles match whole elements (or their ``tag/`` prefix) only. ``replace`` is
    case-sensitive on both databases (SQLite's LIKE is not); paging stays in SQL.
    """
    quoted = codec.dumps(tag, "tag")
    child = codec.dumps(f"{tag}/", "tag")[:-1]
    needles = [f"{a}{quoted}{b}" for a in "[," for b in ",]"] + [f"{a}{child}" for a in "[,"]
    return or_(*(func.replace(J.c.tags, n, "") != J.c.tags for n in needles))
