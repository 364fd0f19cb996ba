"""Wire models of the REST API; field names are seed 004's column names."""

from __future__ import annotations

from typing import Annotated, Any, Generic, TypeVar

import pydantic

from headrace import defaults
from headrace.model import text
from headrace.model.job import Job
from headrace.model.status import Status

T = TypeVar("T")
ATTRS = pydantic.ConfigDict(from_attributes=True)


class JobOut(pydantic.RootModel[Job]):
    """A job as ``GET /jobs/{job_id}`` returns it: the model's ``Job`` record as it is."""


class JobIn(pydantic.BaseModel):
    """The body of ``POST /jobs``: seed 004's fields plus the per-job overrides."""

    model_config = pydantic.ConfigDict(extra="forbid")

    type: str = pydantic.Field(min_length=1, max_length=255)
    idempotency_key: str | None = pydantic.Field(default=None, min_length=1, max_length=255)
    params: Any = None
    timeout_sec: int | None = pydantic.Field(default=None, ge=0, le=2**31 - 1)
    max_retries: int | None = pydantic.Field(default=None, ge=0, le=2**31 - 1)
    retry_delay_sec: int | None = pydantic.Field(default=None, ge=0, le=2**31 - 1)
    delay_sec: float = pydantic.Field(default=0, ge=0, le=10 * 365 * 86400)
    name: str | None = pydantic.Field(default=None, max_length=255)
    description: str | None = None
    #: Labels a worker must offer to claim the job, besides its type's (e.g. ["gpu"]).
    labels: list[str] | None = pydantic.Field(default=None, max_length=16)


class JobsIn(pydantic.BaseModel):
    """The body of ``POST /jobs/batch``: one job per ``params``, the options shared.

    No idempotency keys or names: those are per job (``POST /jobs``).
    """

    model_config = pydantic.ConfigDict(extra="forbid")

    type: str = pydantic.Field(min_length=1, max_length=255)
    params: list[Any] = pydantic.Field(max_length=defaults.MAX_BATCH_JOBS)
    timeout_sec: int | None = pydantic.Field(default=None, ge=0, le=2**31 - 1)
    max_retries: int | None = pydantic.Field(default=None, ge=0, le=2**31 - 1)
    retry_delay_sec: int | None = pydantic.Field(default=None, ge=0, le=2**31 - 1)
    delay_sec: float = pydantic.Field(default=0, ge=0, le=10 * 365 * 86400)
    description: str | None = None
    labels: list[str] | None = pydantic.Field(default=None, max_length=16)


class Paged(pydantic.BaseModel, Generic[T]):
    """One page of a listing."""

    items: list[T]
    page: int
    limit: int
    total: int


class Items(pydantic.BaseModel, Generic[T]):
    """A whole (unpaged) listing."""

    items: list[T]
    total: int


class JobTypeOut(pydantic.BaseModel):
    """A job type (seed 004 ``job_types`` plus queue, suspendability, params schema)."""

    model_config = ATTRS

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
    #: The labels a worker must offer to run its jobs.
    labels: list[str] = []


class JobGroupOut(pydantic.BaseModel):
    """A job group (seed 004 ``job_groups``)."""

    model_config = ATTRS

    name: str
    queue_name: str
    description: str


class JobEventOut(pydantic.BaseModel):
    """One status change of a job."""

    model_config = ATTRS

    event_id: int
    job_id: str
    from_status: Status | None
    to_status: Status
    user_id: str | None
    at_ms: int
    reason: str | None
    attempt: int


class JobLogLineOut(pydantic.BaseModel):
    """One line a job logged."""

    model_config = ATTRS

    job_id: str
    at_ms: int
    level: str
    message: str
    attempt: int


class QueueOut(pydantic.BaseModel):
    """A queue: the capacity live workers give it, and the tenant's jobs on it by status."""

    model_config = ATTRS

    name: str
    capacity: int
    workers: int
    waiting: int
    running: int
    jobs: dict[str, int]
    oldest_waiting_ms: int | None = pydantic.Field(
        None, description="When the longest-waiting due job became due (epoch ms)"
    )
    locked: int = pydantic.Field(
        0, description="Jobs a worker holds that no slot started yet (claimed ahead: prefetch)"
    )


class WorkerOut(pydantic.BaseModel):
    """A registered worker process."""

    model_config = ATTRS

    worker_id: str
    hostname: str
    pid: int
    queues: dict[str, int]
    started_at_ms: int
    heartbeat_ms: int
    alive: bool
    #: The labels it offers; it claims only jobs requiring none it lacks.
    labels: list[str] = []
    #: Its queues' capacities summed, the jobs running in its slots, and their ratio.
    capacity: int = 0
    running: int = 0
    load: float = 0.0
    #: The jobs it holds that no slot started yet (claimed ahead for a slot: prefetch).
    locked: int = 0
    #: How long ago it last heartbeated, when the server answered.
    heartbeat_age_ms: int = 0


class WhoAmI(pydantic.BaseModel):
    """The tenant, user and role the request's token grants."""

    model_config = ATTRS

    tenant_id: str
    user_id: str
    role: str
    tenant_name: str
    user_name: str


class Health(pydantic.BaseModel):
    """``GET /healthz``."""

    status: str
    store: str
    #: The process that answered: with ``--api-processes N``, one of N.
    pid: int


class ItemsIn(pydantic.BaseModel):
    """Values to append to a List or a Stream; a Stream sends them all to ``key``'s partition."""

    model_config = pydantic.ConfigDict(extra="forbid")

    items: list[Any]
    key: Any = None


class EntryIn(pydantic.BaseModel):
    """A value to append to a Stream under its own key (none: round-robin)."""

    model_config = pydantic.ConfigDict(extra="forbid")

    value: Any
    key: Any = None


class EntriesIn(pydantic.BaseModel):
    """Values to append to a Stream, each with its key, as ``publish_all(items, key_fn)``."""

    model_config = pydantic.ConfigDict(extra="forbid")

    entries: list[EntryIn]


class ValueIn(pydantic.BaseModel):
    """A value to put in a Map."""

    model_config = pydantic.ConfigDict(extra="forbid")

    value: Any


class MapEntriesIn(pydantic.BaseModel):
    """Entries to put in a Map in one request: string keys, JSON values."""

    model_config = pydantic.ConfigDict(extra="forbid")

    entries: dict[str, Any]


class ListOut(pydantic.BaseModel):
    """A slice of a named List."""

    name: str
    items: list[Any]
    offset: int
    total: int


class MapEntryOut(pydantic.BaseModel):
    """One entry of a named Map."""

    key: Any
    value: Any


class MapOut(pydantic.BaseModel):
    """The entries of a named Map."""

    name: str
    items: list[MapEntryOut]
    total: int


class StreamEntryOut(pydantic.BaseModel):
    """One entry of a Stream partition."""

    partition: int
    offset: int
    key: Any
    value: Any


class StreamOut(pydantic.BaseModel):
    """Entries read from one partition of a named Stream."""

    name: str
    partitions: int
    partition: int
    items: list[StreamEntryOut]
    next_offset: int
    end_offset: int
    end_offsets: list[int]
    closed: bool


class Appended(pydantic.BaseModel):
    """Where appended Stream items landed, as ``[partition, offset]`` pairs."""

    name: str
    offsets: list[list[int]]


class ReasonIn(pydantic.BaseModel):
    """Why a job is canceled, suspended or resumed: kept in its event (and its details)."""

    model_config = pydantic.ConfigDict(extra="forbid")

    reason: str | None = pydantic.Field(default=None, min_length=1, max_length=1000)


class PipelineIn(pydantic.BaseModel):
    """The body of ``POST /pipeline-jobs``: a pickled pipeline and how to run it as a job.

    ``pipeline`` is ``base64(cloudpickle.dumps(pipeline))``. Functions defined in
    ``__main__`` (a script, a notebook) travel by value; functions of importable modules
    travel by reference, so the server must be able to import their module. Unpickling
    runs code on the server, as any job does: only operators and admins may submit.
    """

    model_config = pydantic.ConfigDict(extra="forbid")

    pipeline: str = pydantic.Field(
        min_length=1, description="base64 of cloudpickle.dumps(pipeline)"
    )
    config: dict[str, Any] | None = pydantic.Field(
        default=None, description="JobConfig fields (either seed spelling), e.g. {'name': 'wc'}"
    )
    local_parallelism: int | None = pydantic.Field(default=None, ge=1, le=1024)
    name: str | None = pydantic.Field(default=None, min_length=1, max_length=255)
    idempotency_key: str | None = pydantic.Field(default=None, min_length=1, max_length=255)
    if_absent: bool = pydantic.Field(
        default=False,
        description="new_job_if_absent: answer the active job of the config's name (200) "
        "instead of submitting a second one",
    )


class PipelineCancelIn(pydantic.BaseModel):
    """How to cancel a pipeline job: ``force`` ends it even if its execution does not stop."""

    model_config = pydantic.ConfigDict(extra="forbid")

    force: bool = False


class JobStatusOut(pydantic.BaseModel):
    """A job's status and, in words, why it is in it (above all: why it is not starting)."""

    job_id: str
    status: Status
    reason: str


class PipelineStatusOut(pydantic.BaseModel):
    """A pipeline job's status, as Headrace and as Jet name it, and why it is in it."""

    job_id: str
    status: Status
    jet_status: str
    reason: str


class PipelineMetricsOut(pydantic.BaseModel):
    """A pipeline job's metrics: totals, and each stage's counters."""

    received_count: int = 0
    emitted_count: int = 0
    total_processing_time_ms: float = 0.0
    late_dropped_count: int = 0
    stages: dict[str, dict[str, Any]] = pydantic.Field(default_factory=dict)


class RunOut(pydantic.BaseModel):
    """One run of a pipeline job (a restart or a resume from a snapshot starts a new one)."""

    job_id: str
    tenant_id: str
    run_count: int
    status: str
    started_at_ms: int
    updated_at_ms: int
    finished_at_ms: int | None
    metrics: dict[str, Any] | None
    error: str | None


class SnapshotIn(pydantic.BaseModel):
    """``POST /pipeline-jobs/{job_id}/snapshots``: export a named snapshot of the job."""

    model_config = pydantic.ConfigDict(extra="forbid")

    name: str = pydantic.Field(min_length=1, max_length=255)
    timeout: float = pydantic.Field(
        default=60.0, ge=0, le=600, description="Seconds to wait for a running job to take it"
    )


class SnapshotOut(pydantic.BaseModel):
    """An exported snapshot: ``JobConfig(initial_snapshot_name=name)`` starts from it."""

    job_id: str
    name: str


class SnapshotInfoOut(pydantic.BaseModel):
    """An exported snapshot, as ``GET /snapshots`` lists it."""

    model_config = ATTRS

    name: str
    job_id: str | None
    run_count: int
    created_at_ms: int
    size_bytes: int


class PurgeOut(pydantic.BaseModel):
    """What ``POST /queues/{name}/purge`` canceled: the queue's waiting jobs."""

    queue: str
    canceled: list[str]
    total: int


class BalanceIn(pydantic.BaseModel):
    """The body of ``POST /workers/balance``: the workers to balance among (None: all live)."""

    model_config = pydantic.ConfigDict(extra="forbid")

    worker_ids: list[Annotated[str, pydantic.Field(pattern=text.UUID_PATTERN)]] | None = (
        pydantic.Field(default=None, max_length=10_000)
    )


class MoveOut(pydantic.BaseModel):
    """One streaming job moved by balancing."""

    model_config = ATTRS

    job_id: str
    from_worker: str
    to_worker: str


class BalanceOut(pydantic.BaseModel):
    """What ``POST /workers/balance`` moved, in order."""

    moves: list[MoveOut]


class StreamStateOut(pydantic.BaseModel):
    """A Stream's partitions, each partition's end offset, and whether it is closed."""

    name: str
    partitions: int
    end_offsets: list[int]
    closed: bool
