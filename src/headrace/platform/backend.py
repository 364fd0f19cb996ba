"""Every call the watsonx facade makes into the client, in one place.

The facade translates; the client (embedded: the service; remote: the REST API) does.
"""

from __future__ import annotations

import builtins
import dataclasses
import datetime as dt
from typing import TYPE_CHECKING, Any

from headrace import defaults, errors
from headrace.client import protocols
from headrace.model.controlplane import PipelineCommit, PipelineInfo, Project, Run
from headrace.model.job import Job
from headrace.pipeline import Pipeline

if TYPE_CHECKING:
    pass


#: What the facade needs of a client: the embedded and the remote one both fit.
ControlPlaneClient = protocols.ControlPlaneClient


def projects(client: ControlPlaneClient) -> builtins.list[Project]:
    """Every project of the tenant (``default`` among them)."""
    return list(client.projects.list())


def publish(
    client: ControlPlaneClient, project: str, pipeline: Pipeline, name: str, message: str
) -> PipelineCommit:
    """Publish the next version of a flow."""
    commit: PipelineCommit = client.pipelines.publish(
        pipeline, name, commit_message=message, project=project
    )
    return commit


def flows(client: ControlPlaneClient, project: str) -> builtins.list[PipelineInfo]:
    """The project's published pipelines."""
    return list(client.pipelines.published(project))


#: A job of a StreamSets flow keeps its offsets ("Jobs use offsets to track the last
#: processed data"): unless its configuration says otherwise, it runs at least once with
#: a snapshot every second, so a canceled run's successor continues where it was.
JOB_CONFIG = {"processing_guarantee": "at_least_once", "snapshot_interval_ms": 1000}


def create_job(client: ControlPlaneClient, project: str, flow: str, **definition: Any) -> Job:
    """Create a job of the flow's latest version."""
    sets = definition["parameter_sets"]
    job: Job = client.jobs.create(
        definition["name"],
        pipeline=flow,
        project=project,
        description=definition["description"],
        config={**JOB_CONFIG, **(definition["configuration"] or {})},
        runtime_parameters=definition["job_parameters"],
        parameter_sets=sets or None,
    )
    return job


def list_jobs(client: ControlPlaneClient, project: str) -> builtins.list[Job]:
    """The project's jobs, newest first."""
    return list(client.jobs.find(project=project))


def update_job(client: ControlPlaneClient, job_id: str, **changes: Any) -> Job:
    """Store a job's changed name, description, parameters (and configuration if given)."""
    values = {
        "name": changes["name"],
        "description": changes["description"],
        "runtime_parameters": changes["job_parameters"],
    }
    if changes["configuration"]:
        values["config"] = changes["configuration"]
    job: Job = client.jobs.update(job_id, **values)
    return job


def delete_job(client: ControlPlaneClient, job_id: str) -> Job:
    """Delete a job (refused while it runs)."""
    job: Job = client.jobs.delete(job_id)
    return job


def job_json(job: Job) -> dict[str, Any]:
    """A job as the SDK's response JSON shows it: ``metadata`` and ``entity``."""
    return {
        "metadata": {"asset_id": job.job_id, "name": job.name, "description": job.description},
        "entity": {"job": _plain(job)},
    }


def run_json(run: Run) -> dict[str, Any]:
    """A run as JSON values."""
    return _plain(run)


def _plain(record: Job | Run) -> dict[str, Any]:
    return {
        f.name: _value(getattr(record, f.name))
        for f in dataclasses.fields(record)
        if f.name not in ("params", "state", "result")
    }


def _value(value: Any) -> Any:
    if isinstance(value, tuple):
        return list(value)
    return str(value) if hasattr(value, "value") else value


def _parameter_set(sets: builtins.list[Any] | None) -> str | None:
    if not sets:
        return None
    if len(sets) != 1 or not isinstance(sets[0], str):
        msg = f"a run takes one parameter set by name, got {sets!r}"
        raise errors.InvalidInput("parameter_sets", msg)
    return str(sets[0])


def start(client: ControlPlaneClient, job_id: str, **run: Any) -> Run:
    """Start a run with its own name, description and parameters; the new run."""
    if run["configuration"]:
        msg = "the client takes no configuration per run (only the job's)"
        raise errors.NotSupported("start(configuration=...)", 12, msg)
    job: Job = client.jobs.start(
        job_id,
        name=run["name"],
        description=run["description"],
        runtime_parameters=run["job_parameters"],
        parameter_set=_parameter_set(run["parameter_sets"]),
    )
    return get_run(client, job_id, job.run_count)


def runs(client: ControlPlaneClient, job_id: str) -> builtins.list[Run]:
    """Every run of a job, newest first."""
    found: builtins.list[Run] = []
    page = 1
    while True:
        chunk = client.jobs.runs(job_id, page=page, limit=100)
        found += chunk
        if len(chunk) < 100:
            return found
        page += 1


def get_run(client: ControlPlaneClient, job_id: str, run_count: int) -> Run:
    """One run."""
    run: Run = client.jobs.run(job_id, run_count)
    return run


def cancel_run(client: ControlPlaneClient, job_id: str, run_count: int) -> Run:
    """Cancel the run if it is the job's active one.

    Raises:
        IllegalTransition: the run is not the job's current run, or has ended.
    """
    job: Job = client.jobs.get(job_id)
    if job.run_count != run_count:
        raise errors.IllegalTransition(
            job_id, f"run {run_count} ended", "canceled", f"run {job.run_count} is current"
        )
    client.jobs.stop(job_id, force=False)
    return get_run(client, job_id, run_count)


def run_logs(client: ControlPlaneClient, job_id: str, run_count: int) -> builtins.list[str]:
    """A run's log lines as strings: time, level, message."""
    lines: builtins.list[str] = []
    page = 1
    while True:
        chunk = client.jobs.run_logs(job_id, run_count, page=page, limit=defaults.MAX_PAGE_LIMIT)
        lines += [f"{_stamp(line.at_ms)} {line.level.upper()} {line.message}" for line in chunk]
        if len(chunk) < defaults.MAX_PAGE_LIMIT:
            return lines
        page += 1


def _stamp(at_ms: int) -> str:
    return dt.datetime.fromtimestamp(at_ms / 1000, tz=dt.UTC).strftime("%Y-%m-%d %H:%M:%S.%f")[:-3]


def error_count(run: Run) -> int:
    """How many records the run's stages rejected."""
    return int((run.metrics or {}).get("error_count", 0))


def reset_offsets(client: ControlPlaneClient, job_id: str) -> Job:
    """The next run starts every source from its beginning."""
    client.jobs.reset_offsets(job_id)
    job: Job = client.jobs.get(job_id)
    return job
