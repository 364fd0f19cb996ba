"""What an operator looks at first, for one tenant: counts, throughput, stuck jobs, search.

The dashboard reads these through the REST API; they are plain reads, confined to the
tenant like every other use case.
"""

from __future__ import annotations

import builtins
from dataclasses import dataclass, field

from headrace import errors
from headrace.model import status as machine
from headrace.model.clock import now_ms
from headrace.model.job import Job, Page
from headrace.service import catalog
from headrace.store.database import Store
from headrace.store.job_rows import ORDERABLE
from headrace.store.overview import (
    DataInfo,
    JobFilter,
    LogLine,
    OverviewRepository,
    SnapshotInfo,
)

#: Minutes of throughput the overview reports.
THROUGHPUT_MINUTES = 60
#: An unfinished job retried this many times is in a retry storm.
STORM_RETRIES = 3
#: Most stuck jobs the overview lists.
STUCK_LIMIT = 20
#: Final statuses counted as failures in the throughput.
FAILURES = frozenset({"failed", "timeout"})
#: Most log lines one read of a job's log tail returns.
TAIL_LIMIT = 1000
#: Most changed jobs one read of the live stream returns.
CHANGES_LIMIT = 200


@dataclass(frozen=True, slots=True)
class Minute:
    """Jobs that ended in one minute: all of them, and those that failed or timed out."""

    at_ms: int
    finished: int = 0
    failed: int = 0


@dataclass(frozen=True, slots=True)
class Overview:
    """The tenant's jobs at a glance."""

    at_ms: int
    counts: dict[str, int]
    total: int
    throughput: list[Minute]
    oldest_waiting_ms: dict[str, int]
    stuck: list[Job] = field(default_factory=list)


class OverviewService:
    """Reads for one tenant's dashboard."""

    def __init__(self, store: Store, tenant_id: str) -> None:
        self.repo = OverviewRepository(store)
        self.tenant_id = tenant_id

    def overview(self) -> Overview:
        """Counts by status, the last hour's throughput per minute, and stuck jobs."""
        at = now_ms()
        counts = self.repo.status_counts(self.tenant_id)
        this_minute = at // 60_000 * 60_000
        first = this_minute - (THROUGHPUT_MINUTES - 1) * 60_000
        finished: dict[int, int] = {}
        failed: dict[int, int] = {}
        for minute, status, n in self.repo.finished_per_minute(self.tenant_id, first):
            finished[minute] = finished.get(minute, 0) + n
            if status in FAILURES:
                failed[minute] = failed.get(minute, 0) + n
        minutes = [first + i * 60_000 for i in range(THROUGHPUT_MINUTES)]
        return Overview(
            at_ms=at,
            counts={str(s): counts.get(str(s), 0) for s in machine.TRANSITIONS},
            total=sum(counts.values()),
            throughput=[Minute(m, finished.get(m, 0), failed.get(m, 0)) for m in minutes],
            oldest_waiting_ms=self.repo.oldest_waiting(self.tenant_id),
            stuck=self.repo.stuck(self.tenant_id, at, STORM_RETRIES, STUCK_LIMIT),
        )

    def search(
        self,
        *,
        status: str | None = None,
        type: str | None = None,
        queue: str | None = None,
        text: str | None = None,
        since_ms: int | None = None,
        until_ms: int | None = None,
        tag: str | None = None,
        project: str | None = None,
        order: str = "-scheduled_at",
        page: int = 1,
        limit: int = 20,
    ) -> Page[Job]:
        """One page of the tenant's jobs matching every filter given.

        ``text`` matches part of the name or the type, any case; ``since_ms`` and
        ``until_ms`` bound the scheduling time (from inclusive, to exclusive; an empty
        range finds nothing); ``tag`` keeps jobs carrying it or a child of it (``a`` matches
        ``a/b``), ``project`` the jobs of that project.

        Raises:
            InvalidInput: naming ``status``, ``order``, ``page`` or ``limit``.
        """
        catalog.check_page(page, limit)
        names = [n for n in (status or "").split(",") if n.strip()]
        statuses = [machine.parse(n.strip()) for n in names]
        key = order.lstrip("+-").removesuffix("_ms")
        if key not in ORDERABLE:
            allowed = ", ".join(sorted(ORDERABLE))
            msg = "order"
            raise errors.InvalidInput(msg, f"unknown field {key!r}; expected one of {allowed}")
        where = JobFilter(
            statuses=statuses,
            type_id=type or None,
            queue=queue or None,
            text=(text or "").strip() or None,
            since_ms=since_ms,
            until_ms=until_ms,
            tag=tag or None,
            project=project or None,
        )
        return self.repo.search(
            self.tenant_id,
            where,
            order=key,
            descending=order.startswith("-"),
            page=page,
            limit=limit,
        )

    def changes(self, since_ms: int, limit: int = CHANGES_LIMIT) -> builtins.list[Job]:
        """The tenant's jobs changed at or after ``since_ms`` (ms), oldest change first.

        What the dashboard's live stream sends; a caller keeps the newest
        ``updated_at_ms`` it saw as its next ``since_ms``.

        Raises:
            InvalidInput: naming ``since_ms`` or ``limit``.
        """
        if since_ms < 0:
            raise errors.InvalidInput("since_ms", f"must be >= 0, got {since_ms}")
        if not 1 <= limit <= CHANGES_LIMIT:
            msg = f"must be 1..{CHANGES_LIMIT}, got {limit}"
            raise errors.InvalidInput("limit", msg)
        return self.repo.changed(self.tenant_id, since_ms, limit)

    def log_tail(
        self, job_id: str, after: int | None = None, limit: int = 200
    ) -> tuple[builtins.list[LogLine], int]:
        """The job's last ``limit`` log lines, or those after log id ``after``; and its total.

        Following a log reads only its new lines. The caller checks the job is the tenant's.

        Raises:
            InvalidInput: naming ``after`` or ``limit``.
        """
        if after is not None and after < 0:
            raise errors.InvalidInput("after", f"must be >= 0, got {after}")
        if not 1 <= limit <= TAIL_LIMIT:
            raise errors.InvalidInput("limit", f"must be 1..{TAIL_LIMIT}, got {limit}")
        return self.repo.log_tail(self.tenant_id, job_id, after, limit)

    def data_structures(self) -> builtins.list[DataInfo]:
        """The tenant's Lists, Maps and Streams with their sizes."""
        return self.repo.data_structures(self.tenant_id)

    def snapshots(self, job_id: str) -> builtins.list[SnapshotInfo]:
        """The job's stored snapshots, newest first (the caller checks the job is theirs)."""
        return self.repo.snapshots(self.tenant_id, job_id)
