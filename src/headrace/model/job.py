"""Job records as the store holds them; attribute names are seed 004's column names."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from headrace.model.status import Status


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
    #: The embedded process (script) that scheduled it, e.g. ``host:pid:tag``; None for a
    #: job scheduled through a server or the CLI.
    origin: str | None = None


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


@dataclass(frozen=True, slots=True)
class Claimed:
    """What a worker learns about a job it has just claimed."""

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
class Page:
    """One page of a listing."""

    items: list[Job]
    total: int
    page: int
    limit: int
