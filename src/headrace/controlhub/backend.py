"""Every call the Control Hub facade makes into the client, in one place.

The facade translates; the client (embedded: the service; remote: the REST API) does.
Each function here is one client call, or reads one field of what a call returned.
"""

from __future__ import annotations

import builtins
from typing import Any, NoReturn

from headrace import errors
from headrace.controlhub import models
from headrace.pipeline import Pipeline

#: Seed 002's offset key of a pipeline's single origin ("the" poll source).
POLL_SOURCE = "$com.streamsets.datacollector.pollsource.offset$"


def not_added(name: str) -> NoReturn:
    """Refuse a run call on a job that was built but never added."""
    msg = f"job {name!r} is not added yet: sch.add_job(job) first"
    raise errors.InvalidInput("job", msg)


# -- pipelines --------------------------------------------------------------------------


def publish(client: Any, pipeline: Pipeline, name: str, message: str, labels: list[str]) -> Any:
    """Publish the next commit of ``name``."""
    return client.pipelines.publish(pipeline, name, commit_message=message, labels=labels)


def latest_commits(client: Any) -> builtins.list[Any]:
    """The latest commit of every published pipeline."""
    return [client.pipelines.commit(p.name) for p in client.pipelines.list_published()]


def commits(client: Any, name: str) -> builtins.list[Any]:
    """Every commit of ``name``, newest first."""
    return list(client.pipelines.commits(name))


def commit_of(client: Any, job: Any) -> Any:
    """The commit a job runs."""
    return client.pipelines.commit(job.pipeline, version=job.pipeline_version)


# -- jobs -------------------------------------------------------------------------------


def _definition(job: Any) -> dict[str, Any]:
    commit = job.commit
    return {
        "name": job.job_name,
        "description": job.description,
        "pipeline": commit.pipeline_name,
        "version": int(commit.version),
        "tags": list(job._tags),
        "runtime_parameters": dict(job.runtime_parameters),
        "require_error_acknowledgement": bool(job.require_job_error_acknowledgement),
    }


def create_job(client: Any, job: Any) -> Any:
    """Create the job a builder made."""
    return client.jobs.create(**_definition(job))


def update_job(client: Any, job: Any) -> Any:
    """Store a job's changed definition."""
    return client.jobs.update(job._require_id(), **_definition(job))


def get_job(client: Any, job_id: str) -> Any:
    """A job by id."""
    return client.jobs.get(job_id)


def list_jobs(client: Any) -> builtins.list[Any]:
    """Every job definition, newest first."""
    return list(client.jobs.list_all())


def delete_job(client: Any, job_id: str) -> Any:
    """Delete a job (refused while it runs)."""
    return client.jobs.delete(job_id)


def duplicate(
    client: Any, job_id: str, copies: int, name: str | None, description: str | None
) -> builtins.list[Any]:
    """Copies of a job."""
    return list(client.jobs.duplicate(job_id, copies, name=name, description=description))


def upgrade(client: Any, job_ids: builtins.list[str]) -> builtins.list[Any]:
    """Move jobs to their pipeline's latest commit."""
    return list(client.jobs.upgrade(job_ids))


def requires_acknowledgement(job: Any) -> bool:
    """Whether the job's failures must be acknowledged before it starts again."""
    return bool(getattr(job, "require_error_acknowledgement", False))


def unacknowledged(job: Any, run: Any) -> bool:
    """Whether ``run`` ended in an error the job still waits to have acknowledged."""
    return requires_acknowledgement(job) and not getattr(run, "acknowledged", True)


def acknowledge(client: Any, job_id: str) -> Any:
    """Acknowledge the job's last error."""
    return client.jobs.acknowledge_error(job_id)


# -- runs -------------------------------------------------------------------------------


def start(client: Any, job_id: str, parameters: dict[str, Any] | None) -> Any:
    """Start a run."""
    return client.jobs.start(job_id, parameters=parameters)


def stop(client: Any, job_id: str, force: bool) -> Any:
    """Stop the active run."""
    return client.jobs.stop(job_id, force=force)


def runs(client: Any, job_id: str) -> builtins.list[Any]:
    """Every run of a job, newest first."""
    return list(client.jobs.runs(job_id))


def current_run(client: Any, job: Any) -> Any | None:
    """The job's current (or last) run, or None before its first."""
    found = runs(client, job.job_id)
    return found[0] if found else None


def run_events(client: Any, job_id: str, run_count: int) -> builtins.list[Any]:
    """One run's status changes, oldest first."""
    return list(client.jobs.run_events(job_id, run_count))


def run_metrics(run: Any) -> models.JobMetrics:
    """One run's record counts."""
    m = run.metrics or {}
    return models.JobMetrics(
        run_count=run.run_count,
        input_count=int(m.get("input_count", 0)),
        output_count=int(m.get("output_count", 0)),
        total_error_count=int(m.get("error_count", 0)),
        stage_metrics=dict(m.get("stages", {})),
    )


def realtime_summary(client: Any, job_id: str) -> models.PipelineMetrics:
    """The active run's counts now."""
    s = client.jobs.realtime_summary(job_id)
    return models.PipelineMetrics(
        data_batch_count=int(s.get("data_batch_count", 0)),
        idle_batch_count=int(s.get("idle_batch_count", 0)),
        input_record_count=int(s.get("input_count", 0)),
        output_record_count=int(s.get("output_count", 0)),
    )


# -- offsets ----------------------------------------------------------------------------


def reset_offsets(client: Any, job_id: str) -> Any:
    """The next run starts every source from its beginning."""
    return client.jobs.reset_offsets(job_id)


def upload_offsets(client: Any, job_id: str, offsets: Any) -> Any:
    """The next run starts from ``offsets``.

    Seed 002's poll-source key is StreamSets' name for a pipeline's one origin; it is
    renamed to the one source entity the job's runs have recorded. Any other name goes
    to the client as it is, which refuses an entity no source of the pipeline has.
    """
    entries = offsets.get("offsets") if isinstance(offsets, dict) else None
    if isinstance(entries, dict) and POLL_SOURCE in entries:
        known = {e for r in runs(client, job_id) for e in (r.offsets or {}).get("offsets", {})}
        if len(known) == 1:
            renamed = {known.pop() if k == POLL_SOURCE else k: v for k, v in entries.items()}
            offsets = {**offsets, "offsets": renamed}
    return client.jobs.upload_offsets(job_id, offsets)


# -- archives and workers ---------------------------------------------------------------


def archives_available(client: Any) -> bool:
    """Whether the client exports and imports job archives (issue 12's last part)."""
    return hasattr(getattr(client, "archives", None), "export_jobs")


def export_jobs(client: Any, job_ids: builtins.list[str]) -> bytes:
    """A ZIP archive of the jobs."""
    if not archives_available(client):
        raise errors.NotSupported("export_jobs", 12, "the client has no archive API yet")
    return bytes(client.archives.export_jobs(job_ids))


def import_jobs(client: Any, data: bytes, **options: Any) -> builtins.list[Any]:
    """Create the jobs of an archive."""
    if not archives_available(client):
        raise errors.NotSupported("import_jobs", 12, "the client has no archive API yet")
    return list(client.archives.import_jobs(data, **options))


def workers_available(client: Any) -> bool:
    """Whether the client lists workers and balances them (issue 17)."""
    found = getattr(client, "workers", None)
    return hasattr(found, "list") and hasattr(found, "balance")


def workers(client: Any) -> builtins.list[models.DataCollector]:
    """The workers, as Data Collectors."""
    if not workers_available(client):
        raise errors.NotSupported("data_collectors", 17, "the client lists no workers yet")
    return [
        models.DataCollector(str(w.worker_id), None, list(w.labels)) for w in client.workers.list()
    ]


def balance(client: Any, worker_ids: builtins.list[str]) -> None:
    """Move running streaming jobs off the given workers' overload."""
    if not workers_available(client):
        raise errors.NotSupported(
            "balance_data_collectors", 17, "the client has no workers.balance yet"
        )
    client.workers.balance(worker_ids)
