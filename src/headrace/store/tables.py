"""The schema, one for both databases; the ``jobs`` columns are seed 004's."""

from __future__ import annotations

from typing import Any, cast

from sqlalchemy import (
    BigInteger,
    Boolean,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Table,
    Text,
    Uuid,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

#: The rows ``ux_jobs_active_name`` covers: named jobs with a run that has not ended (a
#: job never started holds no name: Control Hub's names are not unique).
ACTIVE_NAME = (
    "name IS NOT NULL AND status NOT IN "
    "('completed', 'failed', 'canceled', 'timeout', 'skipped', 'created')"
)

#: The rows of the partial indexes that serve one status each (literal SQL: a migration
#: must say the same, and a test checks the two agree).
HAS_KEY = "idempotency_key IS NOT NULL"
WAITING = "status = 'waiting'"
HELD = "status IN ('locked', 'running', 'canceling', 'suspending')"
RETRYING = "status = 'retrying'"
NAMED = "name IS NOT NULL"

#: Autoincrement keys: BIGINT on PostgreSQL, INTEGER (the rowid alias) on SQLite.
BigId = BigInteger().with_variant(Integer(), "sqlite")


class TextUuid(Uuid[str]):
    """``Uuid(as_uuid=False)`` whose stored hex reads back without a ``uuid.UUID`` each.

    Where the database has no UUID type (SQLite) a UUID is stored as its 32 hex digits,
    which SQLAlchemy reads back through ``str(uuid.UUID(value))``: a fifth of a SQLite
    worker's round went there (four ids per job). The form Headrace stores (32 lowercase
    hex digits; the test: 32 letters and digits, not in upper case) is cut into its groups
    directly; anything else goes the long way. PostgreSQL's dialect type replaces this one.
    """

    cache_ok = True

    def __init__(self) -> None:
        super().__init__(as_uuid=False)

    def result_processor(self, dialect: Any, coltype: object) -> Any:
        """The read conversion: the groups of 32 lowercase hex digits, else SQLAlchemy's."""
        slow = super().result_processor(dialect, coltype)  # type: ignore[no-untyped-call]
        if slow is None:
            return None

        def process(value: Any) -> Any:
            if type(value) is str and len(value) == 32 and value.isalnum() and not value.isupper():
                return f"{value[:8]}-{value[8:12]}-{value[12:16]}-{value[16:20]}-{value[20:]}"
            return slow(value)

        return process


UUID = TextUuid()


def partial_index(name: str, where: str, *columns: str) -> Index:
    """An index of the rows ``where`` holds for, on both databases; ``ux_`` names are unique."""
    return Index(
        name,
        *columns,
        unique=name.startswith("ux_"),
        sqlite_where=text(where),
        postgresql_where=text(where),
    )


class Base(DeclarativeBase):
    """The declarative base whose metadata Alembic migrates."""


class JobGroupRow(Base):
    """Seed 004 ``job_groups``."""

    __tablename__ = "job_groups"
    name: Mapped[str] = mapped_column(String(255), primary_key=True)
    queue_name: Mapped[str] = mapped_column(String(64))
    description: Mapped[str] = mapped_column(Text, default="")


class JobTypeRow(Base):
    """Seed 004 ``job_types``, plus the queue, suspendability and params schema."""

    __tablename__ = "job_types"
    type_id: Mapped[str] = mapped_column(String(255), primary_key=True)
    description: Mapped[str] = mapped_column(Text, default="")
    group_name: Mapped[str] = mapped_column(ForeignKey("job_groups.name"), index=True)
    name: Mapped[str] = mapped_column(String(255))
    queue: Mapped[str] = mapped_column(String(64))
    timeout_sec: Mapped[int] = mapped_column(Integer)
    max_retries: Mapped[int] = mapped_column(Integer)
    retry_delay_sec: Mapped[int] = mapped_column(Integer)
    suspendable: Mapped[bool] = mapped_column(Boolean, default=False)
    params_schema: Mapped[str | None] = mapped_column(Text, nullable=True)
    #: The labels a worker must offer to run its jobs, comma-framed (migration 0015).
    labels: Mapped[str | None] = mapped_column(Text)


class JobRow(Base):
    """Seed 004 ``jobs``: a job and the live state of its current run."""

    __tablename__ = "jobs"
    job_id: Mapped[str] = mapped_column(UUID, primary_key=True)
    tenant_id: Mapped[str] = mapped_column(UUID)
    user_id: Mapped[str] = mapped_column(UUID)
    idempotency_key: Mapped[str | None] = mapped_column(String(255))
    type: Mapped[str] = mapped_column(String(255))
    name: Mapped[str | None] = mapped_column(String(255))
    description: Mapped[str | None] = mapped_column(Text)
    queue: Mapped[str] = mapped_column(String(64))
    scheduled_at_ms: Mapped[int] = mapped_column(BigInteger)
    updated_at_ms: Mapped[int] = mapped_column(BigInteger)
    started_at_ms: Mapped[int | None] = mapped_column(BigInteger)
    finished_at_ms: Mapped[int | None] = mapped_column(BigInteger)
    eta_ms: Mapped[int] = mapped_column(BigInteger)
    locked_by: Mapped[str | None] = mapped_column(UUID)
    lease_expires_ms: Mapped[int | None] = mapped_column(BigInteger)
    attempt: Mapped[int] = mapped_column(Integer, default=0)
    progress: Mapped[float] = mapped_column(Float, default=0.0)
    progress_details: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16))
    details: Mapped[str | None] = mapped_column(Text)
    timeout_sec: Mapped[int] = mapped_column(Integer)
    max_retries: Mapped[int] = mapped_column(Integer)
    retry_delay_sec: Mapped[int] = mapped_column(Integer)
    retries: Mapped[int] = mapped_column(Integer, default=0)
    #: Leases lost (the worker died or was cut off), counted apart from ``retries``.
    lease_losses: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    run_count: Mapped[int] = mapped_column(Integer, default=1)
    error: Mapped[str | None] = mapped_column(Text)
    result: Mapped[str | None] = mapped_column(Text)
    params: Mapped[str] = mapped_column(Text)
    state: Mapped[str | None] = mapped_column(Text)
    resumed: Mapped[bool] = mapped_column(Boolean, default=False)
    #: Requests to the running attempt that are not status changes (JSON): restart,
    #: snapshot exports. The worker's control poll reads them.
    control: Mapped[str | None] = mapped_column(Text)
    # -- the control plane's definition of the job (migration 0008) ----------------------
    #: The project the job lives in (every tenant has ``default``).
    project: Mapped[str] = mapped_column(String(255), default="default", server_default="default")
    #: JSON list of tags (``a/b`` hierarchy allowed).
    tags: Mapped[str | None] = mapped_column(Text)
    #: JSON dict: runtime parameters every run starts from (a run's own merge over them).
    runtime_parameters: Mapped[str | None] = mapped_column(Text)
    #: JSON dict of named parameter sets a run may pick.
    parameter_sets: Mapped[str | None] = mapped_column(Text)
    #: JSON: what each run starts from besides the parameters (a task job's params; a
    #: pipeline job's config and parallelism). ``params`` is the current run's.
    definition: Mapped[str | None] = mapped_column(Text)
    #: The published pipeline and commit version a pipeline job pins.
    pipeline_name: Mapped[str | None] = mapped_column(String(255))
    pipeline_version: Mapped[int | None] = mapped_column(Integer)
    #: StreamSets: a failed run must be acknowledged before the job starts again.
    require_error_ack: Mapped[bool] = mapped_column(
        Boolean, default=False, server_default=text("false")
    )
    error_acknowledged: Mapped[bool] = mapped_column(
        Boolean, default=False, server_default=text("false")
    )
    #: The embedded process (script) that scheduled the job, else NULL (migration 0009):
    #: an embedded client's workers take only their own process's jobs unless asked.
    origin: Mapped[str | None] = mapped_column(String(64))
    #: The labels a worker must offer to claim the job (its own and its type's), sorted
    #: and comma-framed, ``,eu,gpu,``; NULL for none (migration 0015, ``model.labels``).
    labels: Mapped[str | None] = mapped_column(Text)
    #: The worker balancing moved the job to: until ``placed_until_ms`` only it claims
    #: the job, then any (migration 0015); a claim clears both.
    placed_on: Mapped[str | None] = mapped_column(UUID)
    placed_until_ms: Mapped[int | None] = mapped_column(BigInteger)

    # Every status change rewrites the row and adds an entry to every index whose
    # predicate the new row meets, so the indexes are few and partial where the query
    # they serve looks at one status: they are most of the cost of a claim or a finish.
    __table_args__ = (
        # Idempotency: one job per key within a tenant.
        partial_index("ux_jobs_tenant_idempotency", HAS_KEY, "tenant_id", "idempotency_key"),
        # A name is unique among a tenant's jobs that have not ended (Jet's job names).
        partial_index("ux_jobs_active_name", ACTIVE_NAME, "tenant_id", "name"),
        # Named jobs by name, ended ones too, newest last (``find_named``); unnamed jobs,
        # the queue's hot path, add no entry.
        partial_index("ix_jobs_tenant_name", NAMED, "tenant_id", "name", "scheduled_at_ms"),
        # The claim query: waiting jobs of a queue whose eta has come, oldest first.
        partial_index("ix_jobs_claim", WAITING, "queue", "eta_ms", "scheduled_at_ms"),
        # Jobs a worker holds (its control poll, heartbeats) and the reaper's scan.
        partial_index("ix_jobs_held", HELD, "locked_by"),
        # Retries whose delay is over.
        partial_index("ix_jobs_retrying", RETRYING, "eta_ms"),
        # Listings: a tenant's jobs newest first (filtered there by type or project: no
        # index of their own, see migration 0016), and those of one status newest first,
        # a page read from the index's end rather than all the status's jobs sorted (and
        # counts by status; migration 0018).
        Index("ix_jobs_tenant_scheduled", "tenant_id", "scheduled_at_ms"),
        Index("ix_jobs_tenant_status_scheduled", "tenant_id", "status", "scheduled_at_ms"),
    )


class JobEventRow(Base):
    """Every status change of every job: who, when, from what to what, why."""

    __tablename__ = "job_events"
    event_id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    job_id: Mapped[str] = mapped_column(UUID, index=True)
    tenant_id: Mapped[str] = mapped_column(UUID)
    from_status: Mapped[str | None] = mapped_column(String(16))
    to_status: Mapped[str] = mapped_column(String(16))
    user_id: Mapped[str | None] = mapped_column(UUID)
    at_ms: Mapped[int] = mapped_column(BigInteger)
    reason: Mapped[str | None] = mapped_column(Text)
    attempt: Mapped[int] = mapped_column(Integer, default=0)


class JobLogRow(Base):
    """The lines a job logged through ``ctx.log``."""

    __tablename__ = "job_logs"
    log_id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    job_id: Mapped[str] = mapped_column(UUID, index=True)
    tenant_id: Mapped[str] = mapped_column(UUID)
    at_ms: Mapped[int] = mapped_column(BigInteger)
    level: Mapped[str] = mapped_column(String(16))
    message: Mapped[str] = mapped_column(Text)
    attempt: Mapped[int] = mapped_column(Integer, default=0)


class WorkerRow(Base):
    """A live (or recently live) worker process and the queues it serves."""

    __tablename__ = "workers"
    worker_id: Mapped[str] = mapped_column(UUID, primary_key=True)
    hostname: Mapped[str] = mapped_column(String(255))
    pid: Mapped[int] = mapped_column(Integer)
    queues: Mapped[str] = mapped_column(Text)
    started_at_ms: Mapped[int] = mapped_column(BigInteger)
    heartbeat_ms: Mapped[int] = mapped_column(BigInteger, index=True)
    #: The job types the worker runs, a JSON list (migration 0009).
    types: Mapped[str | None] = mapped_column(Text)
    #: The labels the worker offers, comma-framed (migration 0015).
    labels: Mapped[str | None] = mapped_column(Text)


class MaintenanceLeaseRow(Base):
    """Who does a cluster-wide chore (reaping, releasing retries) until when: a lease.

    A lease that lapses, not a lock held by an open transaction, so a frozen holder
    stops nobody: another process takes the role once ``expires_ms`` has passed.
    """

    __tablename__ = "maintenance_leases"
    role: Mapped[str] = mapped_column(String(64), primary_key=True)
    holder: Mapped[str] = mapped_column(String(255))
    expires_ms: Mapped[int] = mapped_column(BigInteger)


class JobRunRow(Base):
    """One run of a job: its times, final status and metrics, kept after it ends."""

    __tablename__ = "job_runs"
    job_id: Mapped[str] = mapped_column(UUID, primary_key=True)
    run_count: Mapped[int] = mapped_column(Integer, primary_key=True)
    tenant_id: Mapped[str] = mapped_column(UUID, index=True)
    status: Mapped[str] = mapped_column(String(16))
    started_at_ms: Mapped[int] = mapped_column(BigInteger)
    updated_at_ms: Mapped[int] = mapped_column(BigInteger)
    finished_at_ms: Mapped[int | None] = mapped_column(BigInteger)
    metrics: Mapped[str | None] = mapped_column(Text)
    error: Mapped[str | None] = mapped_column(Text)
    # -- the run's record for the control plane (migration 0008) -----------------------
    name: Mapped[str | None] = mapped_column(String(255))
    description: Mapped[str | None] = mapped_column(Text)
    #: JSON dict: the parameters this run ran with (the job's, merged with the run's own).
    parameters: Mapped[str | None] = mapped_column(Text)
    #: Who started the run (None: the system, or a run recorded before 0008).
    user_id: Mapped[str | None] = mapped_column(UUID)
    result: Mapped[str | None] = mapped_column(Text)
    #: The run's events and logs are the job's with ids above these (ids only grow).
    events_after: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    logs_after: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")


class ProjectRow(Base):
    """A tenant's project: its jobs and pipelines live in it (``default`` always exists)."""

    __tablename__ = "projects"
    tenant_id: Mapped[str] = mapped_column(UUID, primary_key=True)
    name: Mapped[str] = mapped_column(String(255), primary_key=True)
    description: Mapped[str] = mapped_column(Text, default="")
    user_id: Mapped[str] = mapped_column(UUID)
    created_at_ms: Mapped[int] = mapped_column(BigInteger)


class PipelineRow(Base):
    """A published (versioned) pipeline of a tenant: its name, project, latest version."""

    __tablename__ = "pipelines"
    tenant_id: Mapped[str] = mapped_column(UUID, primary_key=True)
    name: Mapped[str] = mapped_column(String(255), primary_key=True)
    project: Mapped[str] = mapped_column(String(255))
    latest_version: Mapped[int] = mapped_column(Integer)
    created_at_ms: Mapped[int] = mapped_column(BigInteger)


class PipelineCommitRow(Base):
    """One commit of a published pipeline: the pickled pipeline, who, when, why, its DAG."""

    __tablename__ = "pipeline_commits"
    tenant_id: Mapped[str] = mapped_column(UUID, primary_key=True)
    pipeline_name: Mapped[str] = mapped_column(String(255), primary_key=True)
    version: Mapped[int] = mapped_column(Integer, primary_key=True)
    message: Mapped[str] = mapped_column(Text, default="")
    user_id: Mapped[str] = mapped_column(UUID)
    created_at_ms: Mapped[int] = mapped_column(BigInteger)
    #: base64 of the pipeline's cloudpickle (as job params carry it).
    pipeline: Mapped[str] = mapped_column(Text)
    #: JSON: {"vertices": [...], "edges": [...]} for the dashboard and ``diff``.
    dag: Mapped[str] = mapped_column(Text)


class PipelineLabelRow(Base):
    """A movable label (``v1``, ``prod``) naming one commit of a pipeline."""

    __tablename__ = "pipeline_labels"
    tenant_id: Mapped[str] = mapped_column(UUID, primary_key=True)
    pipeline_name: Mapped[str] = mapped_column(String(255), primary_key=True)
    label: Mapped[str] = mapped_column(String(255), primary_key=True)
    version: Mapped[int] = mapped_column(Integer)


class SnapshotRow(Base):
    """A pipeline job's snapshot (source offsets and stage state), or an exported one."""

    __tablename__ = "snapshots"
    snapshot_id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    tenant_id: Mapped[str] = mapped_column(UUID)
    job_id: Mapped[str | None] = mapped_column(UUID, index=True)
    run_count: Mapped[int] = mapped_column(Integer, default=1)
    #: Set on exported snapshots: they outlive the job and are found by name.
    name: Mapped[str | None] = mapped_column(String(255))
    created_at_ms: Mapped[int] = mapped_column(BigInteger)
    state: Mapped[bytes] = mapped_column(LargeBinary)

    __table_args__ = (Index("ux_snapshots_tenant_name", "tenant_id", "name", unique=True),)


metadata = Base.metadata
jobs = cast(Table, JobRow.__table__)
job_runs = cast(Table, JobRunRow.__table__)
snapshots = cast(Table, SnapshotRow.__table__)
job_types = cast(Table, JobTypeRow.__table__)
job_groups = cast(Table, JobGroupRow.__table__)
job_events = cast(Table, JobEventRow.__table__)
job_logs = cast(Table, JobLogRow.__table__)
workers = cast(Table, WorkerRow.__table__)
projects = cast(Table, ProjectRow.__table__)
pipelines = cast(Table, PipelineRow.__table__)
pipeline_commits = cast(Table, PipelineCommitRow.__table__)
pipeline_labels = cast(Table, PipelineLabelRow.__table__)
maintenance_leases = cast(Table, MaintenanceLeaseRow.__table__)


class ListItemRow(Base):
    """One item of a named List, at its position (0, 1, …)."""

    __tablename__ = "data_list_items"
    tenant_id: Mapped[str] = mapped_column(UUID, primary_key=True)
    name: Mapped[str] = mapped_column(String(255), primary_key=True)
    position: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    value: Mapped[bytes] = mapped_column(LargeBinary)


class ListHeadRow(Base):
    """A named List's length: the counter appends take their positions from."""

    __tablename__ = "data_lists"
    tenant_id: Mapped[str] = mapped_column(UUID, primary_key=True)
    name: Mapped[str] = mapped_column(String(255), primary_key=True)
    length: Mapped[int] = mapped_column(BigInteger, default=0)


class MapEntryRow(Base):
    """One entry of a named Map; the key is its pickle (deterministic for the usual keys).

    On SQLite the rows live in their primary key's B-tree (``WITHOUT ROWID``, migration
    0017): a rowid table would keep each row twice, in the table and in the key's index.
    """

    __tablename__ = "data_map_entries"
    __table_args__ = {"sqlite_with_rowid": False}
    tenant_id: Mapped[str] = mapped_column(UUID, primary_key=True)
    name: Mapped[str] = mapped_column(String(255), primary_key=True)
    key: Mapped[bytes] = mapped_column(LargeBinary, primary_key=True)
    value: Mapped[bytes] = mapped_column(LargeBinary)


class MapHeadRow(Base):
    """A named Map's existence (an empty Map is still a Map)."""

    __tablename__ = "data_maps"
    tenant_id: Mapped[str] = mapped_column(UUID, primary_key=True)
    name: Mapped[str] = mapped_column(String(255), primary_key=True)


class StreamPartitionRow(Base):
    """One partition of a named Stream, with the offset its next entry gets."""

    __tablename__ = "data_stream_partitions"
    tenant_id: Mapped[str] = mapped_column(UUID, primary_key=True)
    name: Mapped[str] = mapped_column(String(255), primary_key=True)
    partition: Mapped[int] = mapped_column(Integer, primary_key=True)
    next_offset: Mapped[int] = mapped_column(BigInteger, default=0)
    closed: Mapped[bool] = mapped_column(Boolean, default=False)


class StreamEntryRow(Base):
    """One entry of a Stream's partition, at its offset."""

    __tablename__ = "data_stream_entries"
    tenant_id: Mapped[str] = mapped_column(UUID, primary_key=True)
    name: Mapped[str] = mapped_column(String(255), primary_key=True)
    partition: Mapped[int] = mapped_column(Integer, primary_key=True)
    offset: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    key: Mapped[bytes | None] = mapped_column(LargeBinary)
    value: Mapped[bytes] = mapped_column(LargeBinary)
    at_ms: Mapped[int] = mapped_column(BigInteger)


list_items = cast(Table, ListItemRow.__table__)
lists = cast(Table, ListHeadRow.__table__)
map_entries = cast(Table, MapEntryRow.__table__)
maps = cast(Table, MapHeadRow.__table__)
stream_partitions = cast(Table, StreamPartitionRow.__table__)
stream_entries = cast(Table, StreamEntryRow.__table__)


class TokenRow(Base):
    """An API token: only its SHA-256 is kept; the tenant, user and role it grants."""

    __tablename__ = "api_tokens"
    token_id: Mapped[str] = mapped_column(UUID, primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    tenant_id: Mapped[str] = mapped_column(UUID, index=True)
    user_id: Mapped[str] = mapped_column(UUID)
    tenant_name: Mapped[str] = mapped_column(String(255))
    user_name: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(16))
    created_at_ms: Mapped[int] = mapped_column(BigInteger)
    revoked_at_ms: Mapped[int | None] = mapped_column(BigInteger)
    #: When the token stops working (NULL: never).
    expires_at_ms: Mapped[int | None] = mapped_column(BigInteger)
    #: When a request last used it, to ``tokens.LAST_USE_STEP_SEC`` (NULL: never used).
    last_used_at_ms: Mapped[int | None] = mapped_column(BigInteger)


api_tokens = cast(Table, TokenRow.__table__)


class ScheduleRow(Base):
    """A cron schedule of a job: when it fires (``next_fire_ms``) and what it does.

    ``ix_schedules_due`` serves the maintenance process's scan for due schedules.
    """

    __tablename__ = "schedules"
    schedule_id: Mapped[str] = mapped_column(UUID, primary_key=True)
    tenant_id: Mapped[str] = mapped_column(UUID, index=True)
    job_id: Mapped[str] = mapped_column(UUID, index=True)
    cron: Mapped[str] = mapped_column(String(255))
    timezone: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(16))
    misfire: Mapped[str] = mapped_column(String(16))
    paused: Mapped[bool] = mapped_column(Boolean)
    #: The first tick not yet handled; None while paused.
    next_fire_ms: Mapped[int | None] = mapped_column(BigInteger)
    description: Mapped[str] = mapped_column(Text)
    user_id: Mapped[str] = mapped_column(UUID)
    created_at_ms: Mapped[int] = mapped_column(BigInteger)
    updated_at_ms: Mapped[int] = mapped_column(BigInteger)

    __table_args__ = (Index("ix_schedules_due", "next_fire_ms"),)


class ScheduleFiringRow(Base):
    """One handled tick: the key ``(schedule_id, fire_ms)`` is what makes a tick fire once."""

    __tablename__ = "schedule_firings"
    schedule_id: Mapped[str] = mapped_column(UUID, primary_key=True)
    fire_ms: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    tenant_id: Mapped[str] = mapped_column(UUID)
    fired_at_ms: Mapped[int] = mapped_column(BigInteger)
    outcome: Mapped[str] = mapped_column(String(16))
    skipped: Mapped[int] = mapped_column(Integer)
    run_count: Mapped[int | None] = mapped_column(Integer)
    error: Mapped[str | None] = mapped_column(Text)
    holder: Mapped[str] = mapped_column(String(255))


schedules = cast(Table, ScheduleRow.__table__)
schedule_firings = cast(Table, ScheduleFiringRow.__table__)
