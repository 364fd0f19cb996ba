"""Every call the watsonx facade makes into the client, in one place.

The facade translates; the client (embedded: the service; remote: the REST API) does.
"""

from __future__ import annotations

import builtins
import dataclasses
from typing import Any

from headrace.pipeline import Pipeline


def projects(client: Any) -> builtins.list[Any]:
    """Every project of the tenant (``default`` among them)."""
    return list(client.projects.list())


def publish(client: Any, project: str, pipeline: Pipeline, name: str, message: str) -> Any:
    """Publish the next version of a flow."""
    return client.pipelines.publish(pipeline, name, commit_message=message, project=project)


def latest_commits(client: Any, project: str) -> builtins.list[Any]:
    """The latest commit of every pipeline of the project."""
    return [client.pipelines.commit(p.name) for p in client.pipelines.list_published(project)]


def create_job(client: Any, project: str, flow: str, **definition: Any) -> Any:
    """Create a job of the flow's latest version."""
    return client.jobs.create(
        project=project,
        pipeline=flow,
        name=definition["name"],
        description=definition["description"],
        config=definition["configuration"],
        runtime_parameters=definition["job_parameters"],
        parameter_sets=definition["parameter_sets"],
    )


def list_jobs(client: Any, project: str) -> builtins.list[Any]:
    """The project's jobs, newest first."""
    return list(client.jobs.list_all(project=project))


def update_job(client: Any, job_id: str, **changes: Any) -> Any:
    """Store a job's changed name, description, configuration and parameters."""
    return client.jobs.update(
        job_id,
        name=changes["name"],
        description=changes["description"],
        config=changes["configuration"],
        runtime_parameters=changes["job_parameters"],
    )


def delete_job(client: Any, job_id: str) -> Any:
    """Delete a job (refused while it runs)."""
    return client.jobs.delete(job_id)


def flow_name(job: Any) -> str:
    """The flow (pipeline) a job runs."""
    return str(job.pipeline)


def configuration(job: Any) -> dict[str, Any]:
    """A job's configuration as JSON values."""
    config = getattr(job, "config", None)
    return dict(config or {})


def job_json(job: Any) -> dict[str, Any]:
    """A job as the SDK's response JSON shows it: ``metadata`` and ``entity``."""
    return {
        "metadata": {
            "asset_id": str(job.job_id),
            "name": job.name,
            "description": job.description,
        },
        "entity": {"job": _plain(job)},
    }


def run_json(run: Any) -> dict[str, Any]:
    """A run as JSON values."""
    return _plain(run)


def _plain(record: Any) -> dict[str, Any]:
    if dataclasses.is_dataclass(record) and not isinstance(record, type):
        return {k: _value(v) for k, v in dataclasses.asdict(record).items()}
    return dict(vars(record))


def _value(value: Any) -> Any:
    return str(value) if hasattr(value, "value") else value


def start(client: Any, job_id: str, **run: Any) -> Any:
    """Start a run with its own name, description and parameters."""
    return client.jobs.start(
        job_id,
        name=run["name"],
        description=run["description"],
        config=run["configuration"],
        parameters=run["job_parameters"],
        parameter_sets=run["parameter_sets"],
    )


def runs(client: Any, job_id: str) -> builtins.list[Any]:
    """Every run of a job, newest first."""
    return list(client.jobs.runs(job_id))


def get_run(client: Any, job_id: str, run_count: int) -> Any:
    """One run."""
    return client.jobs.run(job_id, run_count)


def cancel_run(client: Any, job_id: str, run_count: int) -> Any:
    """Cancel the job's active run."""
    client.jobs.stop(job_id, force=False)
    return get_run(client, job_id, run_count)


def run_logs(client: Any, job_id: str, run_count: int) -> builtins.list[str]:
    """A run's log lines as strings."""
    return [line.message for line in client.jobs.run_logs(job_id, run_count)]


def error_count(run: Any) -> int:
    """How many records the run's stages rejected."""
    return int((run.metrics or {}).get("error_count", 0))


def reset_offsets(client: Any, job_id: str) -> Any:
    """The next run starts every source from its beginning."""
    return client.jobs.reset_offsets(job_id)
