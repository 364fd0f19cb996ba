"""Every call the Control Hub facade makes into the client, in one place.

The facade translates; the client (embedded: the service; remote: the REST API) does.
Each function here is one client call, or reads one field of what a call returned.
"""

from __future__ import annotations

import builtins
from typing import TYPE_CHECKING, Any, NoReturn

from headrace import defaults, errors
from headrace.client import protocols
from headrace.controlhub import models
from headrace.model.controlplane import PipelineCommit, PipelineInfo, Run
from headrace.model.job import Job, JobEvent
from headrace.pipeline import Pipeline

if TYPE_CHECKING:
    pass

#: Seed 002's offset key of a pipeline's single origin ("the" poll source).
POLL_SOURCE = "$com.streamsets.datacollector.pollsource.offset$"
#: A Control Hub job keeps its origins' offsets as a Data Collector does, committing them
#: as it goes: the facade's jobs run at least once with a snapshot every second, so a
#: stopped job's next run continues where it was.
JOB_CONFIG = {"processing_guarantee": "at_least_once", "snapshot_interval_ms": 1000}
#: Runs read per request when listing a job's history.
RUNS_PAGE = 100


#: What the facade needs of a client: the embedded and the remote one both fit.
ControlPlaneClient = protocols.ControlPlaneClient


def not_added(name: str) -> NoReturn:
    """Refuse a run call on a job that was built but never added."""
    msg = f"job {name!r} is not added yet: sch.add_job(job) first"
    raise errors.InvalidInput("job", msg)


# -- pipelines --------------------------------------------------------------------------


def publish(
    client: ControlPlaneClient,
    pipeline: Pipeline,
    name: str,
    message: str,
    labels: builtins.list[str],
) -> PipelineCommit:
    """Publish the next commit of ``name``."""
    commit: PipelineCommit = client.pipelines.publish(
        pipeline, name, commit_message=message, labels=labels
    )
    return commit


def published(client: ControlPlaneClient) -> builtins.list[PipelineInfo]:
    """Every published pipeline: its latest version and labels."""
    return list(client.pipelines.published())


def commits(client: ControlPlaneClient, name: str) -> builtins.list[PipelineCommit]:
    """Every commit of ``name``, newest first."""
    return list(client.pipelines.commits(name))


def commit(client: ControlPlaneClient, name: str, version: int | None = None) -> PipelineCommit:
    """One commit of ``name`` (the latest without a version)."""
    found: PipelineCommit = client.pipelines.commit(name, version)
    return found


# -- jobs -------------------------------------------------------------------------------


def create_job(client: ControlPlaneClient, definition: dict[str, Any]) -> Job:
    """Create a job that pins a pipeline commit."""
    job: Job = client.jobs.create(definition["name"], **_create_args(definition))
    return job


def _create_args(d: dict[str, Any]) -> dict[str, Any]:
    return {
        "pipeline": d["pipeline"],
        "version": d["version"],
        "config": dict(JOB_CONFIG),
        "description": d["description"],
        "tags": d["tags"],
        "runtime_parameters": d["runtime_parameters"],
        "require_error_ack": d["require_error_ack"],
    }


def update_job(client: ControlPlaneClient, job_id: str, definition: dict[str, Any]) -> Job:
    """Store a job's changed definition, the commit it pins included (older ones too)."""
    current = get_job(client, job_id)
    changes = {
        k: v for k, v in _create_args(definition).items() if k not in ("pipeline", "version")
    }
    moved = (definition["pipeline"], definition["version"]) != (
        current.pipeline_name,
        current.pipeline_version,
    )
    if moved:
        changes.update(pipeline=definition["pipeline"], version=definition["version"])
    job: Job = client.jobs.update(job_id, name=definition["name"], **changes)
    return job


def get_job(client: ControlPlaneClient, job_id: str) -> Job:
    """A job by id."""
    job: Job = client.jobs.get(job_id)
    return job


def list_jobs(client: ControlPlaneClient) -> builtins.list[Job]:
    """Every job that runs a published pipeline, newest first."""
    return [j for j in client.jobs.find() if j.pipeline_name is not None]


def delete_job(client: ControlPlaneClient, job_id: str) -> Job:
    """Delete a job (refused while it runs)."""
    job: Job = client.jobs.delete(job_id)
    return job


def duplicate(
    client: ControlPlaneClient, job_id: str, copies: int, name: str | None
) -> builtins.list[Job]:
    """Copies of a job."""
    try:
        return list(client.jobs.duplicate(job_id, copies, name=name))
    except errors.InvalidInput as exc:
        if exc.field != "count":
            raise
        raise errors.InvalidInput("number_of_copies", str(exc).split(": ", 1)[-1]) from None


def upgrade(client: ControlPlaneClient, job_ids: builtins.list[str]) -> builtins.list[Job]:
    """Move jobs to their pipeline's latest commit."""
    return list(client.jobs.upgrade(job_ids))


def acknowledge(client: ControlPlaneClient, job_id: str) -> Job:
    """Acknowledge the job's last error."""
    job: Job = client.jobs.acknowledge_error(job_id)
    return job


# -- runs -------------------------------------------------------------------------------


def start(client: ControlPlaneClient, job_id: str) -> Job:
    """Start a run (refused while one is active, or an error awaits acknowledgement)."""
    job: Job = client.jobs.start(job_id)
    return job


def stop(client: ControlPlaneClient, job_id: str, force: bool) -> Job:
    """Stop the active run."""
    job: Job = client.jobs.stop(job_id, force=force)
    return job


def runs(client: ControlPlaneClient, job_id: str) -> builtins.list[Run]:
    """Every run of a job, newest first."""
    found: builtins.list[Run] = []
    page = 1
    while True:
        chunk = client.jobs.runs(job_id, page=page, limit=RUNS_PAGE)
        found += chunk
        if len(chunk) < RUNS_PAGE:
            return found
        page += 1


def latest_run(client: ControlPlaneClient, job: Job) -> Run | None:
    """The job's current (or last) run; None before its first."""
    if job.run_count < 1:
        return None
    found: builtins.list[Run] = client.jobs.runs(job.job_id, page=1, limit=1)
    return found[0] if found else None


def run_events(client: ControlPlaneClient, job_id: str, run_count: int) -> builtins.list[JobEvent]:
    """One run's status changes, oldest first."""
    found: builtins.list[JobEvent] = []
    page = 1
    while True:
        chunk = client.jobs.run_events(job_id, run_count, page=page, limit=defaults.MAX_PAGE_LIMIT)
        found += chunk
        if len(chunk) < defaults.MAX_PAGE_LIMIT:
            return found
        page += 1


def run_metrics(client: ControlPlaneClient, job_id: str, run_count: int) -> models.JobMetrics:
    """One run's record counts."""
    m = client.jobs.run_metrics(job_id, run_count)
    return models.JobMetrics(
        run_count=run_count,
        input_count=int(m.get("input_count", 0)),
        output_count=int(m.get("output_count", 0)),
        total_error_count=int(m.get("error_count", 0)),
        stage_metrics=dict(m.get("stages", {})),
    )


def realtime_summary(client: ControlPlaneClient, job_id: str) -> models.PipelineMetrics:
    """The active run's counts now."""
    s = client.jobs.summary(job_id)
    return models.PipelineMetrics(
        data_batch_count=int(s.get("batch_count", 0)),
        input_record_count=int(s.get("input_count", 0)),
        output_record_count=int(s.get("output_count", 0)),
        idle_batches=int(s["idle_batch_count"]),
    )


# -- offsets ----------------------------------------------------------------------------


def reset_offsets(client: ControlPlaneClient, job_id: str) -> Job:
    """The next run starts every source from its beginning."""
    job: Job = client.jobs.reset_offsets(job_id)
    return job


def upload_offsets(client: ControlPlaneClient, job_id: str, offsets: Any) -> Job:
    """The next run starts from ``offsets``.

    Seed 002's poll-source key is StreamSets' name for a pipeline's one origin; it is
    renamed to the one source entity the job's offsets may name (a job that never ran
    included). Any other name goes to the
    client as it is, which refuses an entity no source of the pipeline has.
    """
    api = client.jobs
    entries = offsets.get("offsets") if isinstance(offsets, dict) else None
    if isinstance(entries, dict) and POLL_SOURCE in entries:
        known = set(api.offset_entities(job_id))
        if len(known) == 1:
            renamed = {known.pop() if k == POLL_SOURCE else k: v for k, v in entries.items()}
            offsets = {**offsets, "offsets": renamed}
    job: Job = api.upload_offsets(job_id, offsets)
    return job


def run_offsets(client: ControlPlaneClient, job_id: str, run_count: int) -> dict[str, Any]:
    """One run's committed offsets (``{"version": 2, "offsets": {...}}``; empty if none)."""
    found: dict[str, Any] = client.jobs.offsets(job_id, run_count)
    return found


# -- archives and workers ---------------------------------------------------------------


def export_jobs(client: ControlPlaneClient, job_ids: builtins.list[str]) -> bytes:
    """A ZIP archive of the jobs with the pipeline commits they pin (as the SDK's: no offsets)."""
    return client.archives.export_jobs(job_ids)


def import_jobs(client: ControlPlaneClient, data: bytes, **options: Any) -> builtins.list[Job]:
    """Create the jobs of an archive (nothing, if any part of it is wrong)."""
    return client.archives.import_jobs(data, **options)


def workers(client: ControlPlaneClient) -> builtins.list[models.DataCollector]:
    """The workers, as Data Collectors."""
    return [
        models.DataCollector(str(w.worker_id), None, list(w.labels)) for w in client.workers.list()
    ]


def balance(client: ControlPlaneClient, worker_ids: builtins.list[str]) -> None:
    """Move running streaming jobs off the given workers' overload."""
    client.workers.balance(worker_ids)
