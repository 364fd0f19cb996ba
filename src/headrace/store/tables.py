"""The schema, one for both databases; the ``jobs`` columns are seed 004's.

SQLAlchemy Core ``Table``s, not ORM classes: nothing maps rows to objects (every store
query selects columns), and importing ``sqlalchemy.orm`` and building the declarative
classes cost each process that opens a store (a ``headrace worker`` most of all) ~75 ms
of its start-up (-X importtime: this module 110 ms inclusive, now 35 ms).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    Uuid,
    text,
)

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
#: Equalities, not ``IN (...)``: on SQLite a partial index's IN list cost ~0.5 µs a row
#: more on every status change (migration 0020).
HELD = "status = 'locked' OR status = 'running' OR status = 'canceling' OR status = 'suspending'"
RETRYING = "status = 'retrying'"
#: Every status but ``waiting``, ``completed``, the held ones and ``retrying``: those the
#: worker's hot path (claim, start, end, a retry) writes. With ``WAITING``
#: (``ix_jobs_claim``), ``HELD`` (``ix_jobs_held``) and ``RETRYING`` (``ix_jobs_retrying``)
#: it splits the statuses, ``completed`` the one no index serves (a tenant's jobs minus
#: the others). Inequalities joined by AND, as
#: for ``HELD`` (migration 0021); a status added later falls here.
#: The statuses the hot path writes, kept out of ``REST`` (its text is built from them).
ON_HOT_PATH = ("waiting", "completed", "locked", "running", "canceling", "suspending", "retrying")
REST = " AND ".join(f"status <> '{s}'" for s in ON_HOT_PATH)
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


#: Every table; Alembic migrates the database to it (``migrations/env.py``).
metadata = MetaData()

#: Seed 004 ``job_groups``.
job_groups = Table(
    "job_groups",
    metadata,
    Column("name", String(255), primary_key=True),
    Column("queue_name", String(64), nullable=False),
    Column("description", Text, nullable=False, default=""),
)

#: Seed 004 ``job_types``, plus the queue, suspendability and params schema.
job_types = Table(
    "job_types",
    metadata,
    Column("type_id", String(255), primary_key=True),
    Column("description", Text, nullable=False, default=""),
    Column("group_name", ForeignKey("job_groups.name"), nullable=False, index=True),
    Column("name", String(255), nullable=False),
    Column("queue", String(64), nullable=False),
    Column("timeout_sec", Integer, nullable=False),
    Column("max_retries", Integer, nullable=False),
    Column("retry_delay_sec", Integer, nullable=False),
    Column("suspendable", Boolean, nullable=False, default=False),
    Column("params_schema", Text),
    #: The labels a worker must offer to run its jobs, comma-framed (migration 0015).
    Column("labels", Text),
)

#: Seed 004 ``jobs``: a job and the live state of its current run.
jobs = Table(
    "jobs",
    metadata,
    Column("job_id", UUID, primary_key=True),
    Column("tenant_id", UUID, nullable=False),
    Column("user_id", UUID, nullable=False),
    Column("idempotency_key", String(255)),
    Column("type", String(255), nullable=False),
    Column("name", String(255)),
    Column("description", Text),
    Column("queue", String(64), nullable=False),
    Column("scheduled_at_ms", BigInteger, nullable=False),
    Column("updated_at_ms", BigInteger, nullable=False),
    Column("started_at_ms", BigInteger),
    Column("finished_at_ms", BigInteger),
    Column("eta_ms", BigInteger, nullable=False),
    Column("locked_by", UUID),
    Column("lease_expires_ms", BigInteger),
    Column("attempt", Integer, nullable=False, default=0),
    Column("progress", Float, nullable=False, default=0.0),
    Column("progress_details", Text),
    Column("status", String(16), nullable=False),
    Column("details", Text),
    Column("timeout_sec", Integer, nullable=False),
    Column("max_retries", Integer, nullable=False),
    Column("retry_delay_sec", Integer, nullable=False),
    Column("retries", Integer, nullable=False, default=0),
    # Leases lost (the worker died or was cut off), counted apart from ``retries``.
    Column("lease_losses", Integer, nullable=False, default=0, server_default="0"),
    Column("run_count", Integer, nullable=False, default=1),
    Column("error", Text),
    Column("result", Text),
    Column("params", Text, nullable=False),
    Column("state", Text),
    Column("resumed", Boolean, nullable=False, default=False),
    # Requests to the running attempt that are not status changes (JSON): restart,
    # snapshot exports. The worker's control poll reads them.
    Column("control", Text),
    # -- the control plane's definition of the job (migration 0008) ----------------------
    # The project the job lives in (every tenant has ``default``).
    Column("project", String(255), nullable=False, default="default", server_default="default"),
    # JSON list of tags (``a/b`` hierarchy allowed).
    Column("tags", Text),
    # JSON dict: runtime parameters every run starts from (a run's own merge over them).
    Column("runtime_parameters", Text),
    # JSON dict of named parameter sets a run may pick.
    Column("parameter_sets", Text),
    # JSON: what each run starts from besides the parameters (a task job's params; a
    # pipeline job's config and parallelism). ``params`` is the current run's.
    Column("definition", Text),
    # The published pipeline and commit version a pipeline job pins.
    Column("pipeline_name", String(255)),
    Column("pipeline_version", Integer),
    # StreamSets: a failed run must be acknowledged before the job starts again.
    Column(
        "require_error_ack", Boolean, nullable=False, default=False, server_default=text("false")
    ),
    Column(
        "error_acknowledged", Boolean, nullable=False, default=False, server_default=text("false")
    ),
    # The embedded process (script) that scheduled the job, else NULL (migration 0009):
    # an embedded client's workers take only their own process's jobs unless asked.
    Column("origin", String(64)),
    # The labels a worker must offer to claim the job (its own and its type's), sorted
    # and comma-framed, ``,eu,gpu,``; NULL for none (migration 0015, ``model.labels``).
    Column("labels", Text),
    # The worker balancing moved the job to: until ``placed_until_ms`` only it claims
    # the job, then any (migration 0015); a claim clears both.
    Column("placed_on", UUID),
    Column("placed_until_ms", BigInteger),
    # Every status change rewrites the row and adds an entry to every index whose
    # predicate the new row meets, so the indexes are few and partial where the query
    # they serve looks at one status: they are most of the cost of a claim or a finish.
    #
    # Idempotency: one job per key within a tenant.
    partial_index("ux_jobs_tenant_idempotency", HAS_KEY, "tenant_id", "idempotency_key"),
    # A name is unique among a tenant's jobs that have not ended (Jet's job names).
    partial_index("ux_jobs_active_name", ACTIVE_NAME, "tenant_id", "name"),
    # Named jobs by name, ended ones too, newest last (``find_named``); unnamed jobs,
    # the queue's hot path, add no entry.
    partial_index("ix_jobs_tenant_name", NAMED, "tenant_id", "name", "scheduled_at_ms"),
    # The claim query: waiting jobs of a queue whose eta has come, oldest first. The
    # tenant and the status trail, so a tenant's waiting jobs are counted from the index
    # alone (SQLite reads a column of the predicate from the row; migration 0021).
    partial_index(
        "ix_jobs_claim", WAITING, "queue", "eta_ms", "scheduled_at_ms", "tenant_id", "status"
    ),
    # Jobs a worker holds (its control poll, heartbeats) and the reaper's scan.
    partial_index("ix_jobs_held", HELD, "locked_by"),
    # Retries whose delay is over.
    partial_index("ix_jobs_retrying", RETRYING, "eta_ms"),
    # A tenant's jobs by status, for the statuses no worker writes on its way (failed,
    # canceled, suspended, ...): counts and listings by status (``predicates.by_status``);
    # an index of every status moved an entry at each claim and each end (migration 0021).
    partial_index("ix_jobs_tenant_rest", REST, "tenant_id", "status"),
    # A tenant's jobs, counted (the ``completed`` of those counts is the tenant's jobs
    # minus the others). Its column never changes: SQLite's status changes leave it be;
    # PostgreSQL's, never HOT (a predicate names the status), add an entry to every index.
    Index("ix_jobs_tenant", "tenant_id"),
    # Listings: a tenant's jobs newest first (filtered there by type or project: no
    # index of their own, see migration 0016). The listing's tie-break,
    # job_id, is in the index: jobs sharing a millisecond (a schedule_many's) are not
    # all read and sorted for one page (migration 0019).
    Index("ix_jobs_tenant_scheduled", "tenant_id", "scheduled_at_ms", "job_id"),
)

#: Every status change of every job: who, when, from what to what, why. One row per
#: write: a write whose path passes through statuses (``locked -> running -> completed``)
#: is one row, ``via`` naming the statuses between ``from_status`` and ``to_status``,
#: comma-separated in order (``running``); NULL for a change of one step (migration 0018).
#: Readers expand a row into one event per step (``job_rows.events_from_row``).
job_events = Table(
    "job_events",
    metadata,
    Column("event_id", BigId, primary_key=True, autoincrement=True),
    Column("job_id", UUID, nullable=False, index=True),
    Column("tenant_id", UUID, nullable=False),
    Column("from_status", String(16)),
    Column("to_status", String(16), nullable=False),
    Column("user_id", UUID),
    Column("at_ms", BigInteger, nullable=False),
    Column("reason", Text),
    Column("attempt", Integer, nullable=False, default=0),
    Column("via", Text),
)

#: The lines a job logged through ``ctx.log``.
job_logs = Table(
    "job_logs",
    metadata,
    Column("log_id", BigId, primary_key=True, autoincrement=True),
    Column("job_id", UUID, nullable=False, index=True),
    Column("tenant_id", UUID, nullable=False),
    Column("at_ms", BigInteger, nullable=False),
    Column("level", String(16), nullable=False),
    Column("message", Text, nullable=False),
    Column("attempt", Integer, nullable=False, default=0),
)

#: A live (or recently live) worker process and the queues it serves.
workers = Table(
    "workers",
    metadata,
    Column("worker_id", UUID, primary_key=True),
    Column("hostname", String(255), nullable=False),
    Column("pid", Integer, nullable=False),
    Column("queues", Text, nullable=False),
    Column("started_at_ms", BigInteger, nullable=False),
    Column("heartbeat_ms", BigInteger, nullable=False, index=True),
    # The job types the worker runs, a JSON list (migration 0009).
    Column("types", Text),
    # The labels the worker offers, comma-framed (migration 0015).
    Column("labels", Text),
)

#: Who does a cluster-wide chore (reaping, releasing retries) until when: a lease.
#:
#: A lease that lapses, not a lock held by an open transaction, so a frozen holder
#: stops nobody: another process takes the role once ``expires_ms`` has passed.
maintenance_leases = Table(
    "maintenance_leases",
    metadata,
    Column("role", String(64), primary_key=True),
    Column("holder", String(255), nullable=False),
    Column("expires_ms", BigInteger, nullable=False),
)

#: One run of a job: its times, final status and metrics, kept after it ends.
job_runs = Table(
    "job_runs",
    metadata,
    Column("job_id", UUID, primary_key=True),
    Column("run_count", Integer, primary_key=True),
    Column("tenant_id", UUID, nullable=False, index=True),
    Column("status", String(16), nullable=False),
    Column("started_at_ms", BigInteger, nullable=False),
    Column("updated_at_ms", BigInteger, nullable=False),
    Column("finished_at_ms", BigInteger),
    Column("metrics", Text),
    Column("error", Text),
    # -- the run's record for the control plane (migration 0008) -----------------------
    Column("name", String(255)),
    Column("description", Text),
    # JSON dict: the parameters this run ran with (the job's, merged with the run's own).
    Column("parameters", Text),
    # Who started the run (None: the system, or a run recorded before 0008).
    Column("user_id", UUID),
    Column("result", Text),
    # The run's events and logs are the job's with ids above these (ids only grow).
    Column("events_after", BigInteger, nullable=False, default=0, server_default="0"),
    Column("logs_after", BigInteger, nullable=False, default=0, server_default="0"),
)

#: A tenant's project: its jobs and pipelines live in it (``default`` always exists).
projects = Table(
    "projects",
    metadata,
    Column("tenant_id", UUID, primary_key=True),
    Column("name", String(255), primary_key=True),
    Column("description", Text, nullable=False, default=""),
    Column("user_id", UUID, nullable=False),
    Column("created_at_ms", BigInteger, nullable=False),
)

#: A published (versioned) pipeline of a tenant: its name, project, latest version.
pipelines = Table(
    "pipelines",
    metadata,
    Column("tenant_id", UUID, primary_key=True),
    Column("name", String(255), primary_key=True),
    Column("project", String(255), nullable=False),
    Column("latest_version", Integer, nullable=False),
    Column("created_at_ms", BigInteger, nullable=False),
)

#: One commit of a published pipeline: the pickled pipeline, who, when, why, its DAG.
pipeline_commits = Table(
    "pipeline_commits",
    metadata,
    Column("tenant_id", UUID, primary_key=True),
    Column("pipeline_name", String(255), primary_key=True),
    Column("version", Integer, primary_key=True),
    Column("message", Text, nullable=False, default=""),
    Column("user_id", UUID, nullable=False),
    Column("created_at_ms", BigInteger, nullable=False),
    # base64 of the pipeline's cloudpickle (as job params carry it).
    Column("pipeline", Text, nullable=False),
    # JSON: {"vertices": [...], "edges": [...]} for the dashboard and ``diff``.
    Column("dag", Text, nullable=False),
)

#: A movable label (``v1``, ``prod``) naming one commit of a pipeline.
pipeline_labels = Table(
    "pipeline_labels",
    metadata,
    Column("tenant_id", UUID, primary_key=True),
    Column("pipeline_name", String(255), primary_key=True),
    Column("label", String(255), primary_key=True),
    Column("version", Integer, nullable=False),
)

#: A pipeline job's snapshot (source offsets and stage state), or an exported one.
snapshots = Table(
    "snapshots",
    metadata,
    Column("snapshot_id", BigId, primary_key=True, autoincrement=True),
    Column("tenant_id", UUID, nullable=False),
    Column("job_id", UUID, index=True),
    Column("run_count", Integer, nullable=False, default=1),
    # Set on exported snapshots: they outlive the job and are found by name.
    Column("name", String(255)),
    Column("created_at_ms", BigInteger, nullable=False),
    Column("state", LargeBinary, nullable=False),
    Index("ux_snapshots_tenant_name", "tenant_id", "name", unique=True),
)

#: One item of a named List, at its position (0, 1, …).
list_items = Table(
    "data_list_items",
    metadata,
    Column("tenant_id", UUID, primary_key=True),
    Column("name", String(255), primary_key=True),
    Column("position", BigInteger, primary_key=True),
    Column("value", LargeBinary, nullable=False),
)

#: A named List's length: the counter appends take their positions from.
lists = Table(
    "data_lists",
    metadata,
    Column("tenant_id", UUID, primary_key=True),
    Column("name", String(255), primary_key=True),
    Column("length", BigInteger, nullable=False, default=0),
)

#: One entry of a named Map; the key is its pickle (deterministic for the usual keys).
#:
#: On SQLite the rows live in their primary key's B-tree (``WITHOUT ROWID``, migration
#: 0017): a rowid table would keep each row twice, in the table and in the key's index.
map_entries = Table(
    "data_map_entries",
    metadata,
    Column("tenant_id", UUID, primary_key=True),
    Column("name", String(255), primary_key=True),
    Column("key", LargeBinary, primary_key=True),
    Column("value", LargeBinary, nullable=False),
    sqlite_with_rowid=False,
)

#: A named Map's existence (an empty Map is still a Map).
maps = Table(
    "data_maps",
    metadata,
    Column("tenant_id", UUID, primary_key=True),
    Column("name", String(255), primary_key=True),
)

#: One partition of a named Stream, with the offset its next entry gets.
stream_partitions = Table(
    "data_stream_partitions",
    metadata,
    Column("tenant_id", UUID, primary_key=True),
    Column("name", String(255), primary_key=True),
    Column("partition", Integer, primary_key=True),
    Column("next_offset", BigInteger, nullable=False, default=0),
    Column("closed", Boolean, nullable=False, default=False),
)

#: One entry of a Stream's partition, at its offset.
stream_entries = Table(
    "data_stream_entries",
    metadata,
    Column("tenant_id", UUID, primary_key=True),
    Column("name", String(255), primary_key=True),
    Column("partition", Integer, primary_key=True),
    Column("offset", BigInteger, primary_key=True),
    Column("key", LargeBinary),
    Column("value", LargeBinary, nullable=False),
    Column("at_ms", BigInteger, nullable=False),
)

#: An API token: only its SHA-256 is kept; the tenant, user and role it grants.
api_tokens = Table(
    "api_tokens",
    metadata,
    Column("token_id", UUID, primary_key=True),
    Column("token_hash", String(64), nullable=False, unique=True),
    Column("tenant_id", UUID, nullable=False, index=True),
    Column("user_id", UUID, nullable=False),
    Column("tenant_name", String(255), nullable=False),
    Column("user_name", String(255), nullable=False),
    Column("role", String(16), nullable=False),
    Column("created_at_ms", BigInteger, nullable=False),
    Column("revoked_at_ms", BigInteger),
    # When the token stops working (NULL: never).
    Column("expires_at_ms", BigInteger),
    # When a request last used it, to ``tokens.LAST_USE_STEP_SEC`` (NULL: never used).
    Column("last_used_at_ms", BigInteger),
)

#: A cron schedule of a job: when it fires (``next_fire_ms``) and what it does.
#:
#: ``ix_schedules_due`` serves the maintenance process's scan for due schedules.
schedules = Table(
    "schedules",
    metadata,
    Column("schedule_id", UUID, primary_key=True),
    Column("tenant_id", UUID, nullable=False, index=True),
    Column("job_id", UUID, nullable=False, index=True),
    Column("cron", String(255), nullable=False),
    Column("timezone", String(64), nullable=False),
    Column("action", String(16), nullable=False),
    Column("misfire", String(16), nullable=False),
    Column("paused", Boolean, nullable=False),
    # The first tick not yet handled; None while paused.
    Column("next_fire_ms", BigInteger),
    Column("description", Text, nullable=False),
    Column("user_id", UUID, nullable=False),
    Column("created_at_ms", BigInteger, nullable=False),
    Column("updated_at_ms", BigInteger, nullable=False),
    Index("ix_schedules_due", "next_fire_ms"),
)

#: One handled tick: the key ``(schedule_id, fire_ms)`` is what makes a tick fire once.
schedule_firings = Table(
    "schedule_firings",
    metadata,
    Column("schedule_id", UUID, primary_key=True),
    Column("fire_ms", BigInteger, primary_key=True),
    Column("tenant_id", UUID, nullable=False),
    Column("fired_at_ms", BigInteger, nullable=False),
    Column("outcome", String(16), nullable=False),
    Column("skipped", Integer, nullable=False),
    Column("run_count", Integer),
    Column("error", Text),
    Column("holder", String(255), nullable=False),
)
