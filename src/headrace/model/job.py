"""Job records as the store holds them; attribute names are seed 004's column names."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, Generic, NamedTuple, TypeVar

from headrace.model.status import Status

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Job:
    """One job instance: its definition and the live state of its current run."""

    job_id: str
    tenant_id: str
    user_id: str
    idempotency_key: str | None
    type: str
    name: str | None
    description: str | None
    queue: str
    status: Status
    details: str | None
    scheduled_at_ms: int
    updated_at_ms: int
    started_at_ms: int | None
    finished_at_ms: int | None
    eta_ms: int
    locked_by: str | None
    attempt: int
    progress: float
    progress_details: str | None
    timeout_sec: int
    max_retries: int
    retry_delay_sec: int
    retries: int
    run_count: int
    error: str | None
    result: Any
    params: Any
    state: dict[str, Any]
    # The control plane's definition (defaults: a job scheduled the seed 004 way).
    project: str = "default"
    tags: tuple[str, ...] = ()
    runtime_parameters: dict[str, Any] = field(default_factory=dict)
    parameter_sets: dict[str, dict[str, Any]] = field(default_factory=dict)
    pipeline_name: str | None = None
    pipeline_version: int | None = None
    require_error_ack: bool = False
    error_acknowledged: bool = False
    #: The embedded process (script) that scheduled it, e.g. ``host:pid:tag``; None for a
    #: job scheduled through a server or the CLI.
    origin: str | None = None
    #: Leases this run lost (its worker died or was cut off): counted apart from
    #: ``retries``, with a limit of their own (``defaults.LEASE_LOSSES_ALLOWED``).
    lease_losses: int = 0
    #: The labels a worker must offer to claim it (its own and its type's), sorted.
    labels: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class JobGroupInfo:
    """A stored job group (seed 004 ``job_groups``)."""

    name: str
    queue_name: str
    description: str


@dataclass(frozen=True, slots=True)
class JobTypeInfo:
    """A stored job type (seed 004 ``job_types``)."""

    type_id: str
    group_name: str
    name: str
    description: str
    queue: str
    timeout_sec: int
    max_retries: int
    retry_delay_sec: int
    suspendable: bool
    params_schema: dict[str, Any] | None
    #: The labels a worker must offer to run jobs of this type, sorted.
    labels: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class JobEvent:
    """One recorded status change."""

    event_id: int
    job_id: str
    from_status: Status | None
    to_status: Status
    user_id: str | None
    at_ms: int
    reason: str | None
    attempt: int


@dataclass(frozen=True, slots=True)
class JobLogLine:
    """One line a job logged through its context."""

    job_id: str
    at_ms: int
    level: str
    message: str
    attempt: int


class Claimed(NamedTuple):
    """What a worker learns about a job it has just claimed.

    Immutable, and a tuple: a worker builds one per job it claims, on its pump thread, and
    a tuple is built in a fraction of a frozen dataclass's time (which sets each of its
    thirteen fields through ``object.__setattr__``).
    """

    job_id: str
    tenant_id: str
    type: str
    queue: str
    attempt: int
    params: Any
    state: dict[str, Any]
    progress: float
    timeout_sec: int
    retries: int
    max_retries: int
    retry_delay_sec: int
    resumed: bool


@dataclass(frozen=True, slots=True)
class SnapshotInfo:
    """An exported snapshot: ``JobConfig(initial_snapshot_name=name)`` starts a job from it."""

    name: str
    job_id: str | None
    run_count: int
    created_at_ms: int
    size_bytes: int


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    """One page of a listing; iterating it (or ``len``) walks this page's items.

    ``total`` counts every match, so ``page * limit < total`` says more pages follow.
    """

    items: list[T]
    total: int
    page: int
    limit: int

    def __iter__(self) -> Iterator[T]:
        return iter(self.items)

    def __len__(self) -> int:
        return len(self.items)

    def __getitem__(self, index: int) -> T:
        return self.items[index]
