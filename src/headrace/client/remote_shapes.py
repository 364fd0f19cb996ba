"""What the server's JSON answers become on the remote client: jobs, events, job types, metrics.

One place for the shapes, so the remote services (``remote``, ``remote_control``,
``remote_archives``, ``remote_pipelines``) import them without importing each other.
"""

from __future__ import annotations

import base64
import dataclasses
from typing import Any

import cloudpickle

from headrace import errors
from headrace.engine.metrics import PipelineMetrics, StageMetrics
from headrace.model.job import Job, JobEvent, JobTypeInfo
from headrace.model.status import Status
from headrace.pipeline import Pipeline

_JOB_FIELDS = tuple(f.name for f in dataclasses.fields(Job))
_TYPE_FIELDS = tuple(f.name for f in dataclasses.fields(JobTypeInfo))


def type_from(data: dict[str, Any]) -> JobTypeInfo:
    """A ``JobTypeInfo`` from its JSON."""
    values: dict[str, Any] = {k: data.get(k) for k in _TYPE_FIELDS}
    values["labels"] = tuple(values["labels"] or ())
    return JobTypeInfo(**values)


def job_from(data: dict[str, Any]) -> Job:
    """A ``Job`` from its JSON."""
    values: dict[str, Any] = {name: data.get(name) for name in _JOB_FIELDS}
    values["status"] = Status(values["status"])
    values["state"] = values["state"] or {}
    values["tags"] = tuple(values["tags"] or ())
    values["labels"] = tuple(values["labels"] or ())
    for name in ("runtime_parameters", "parameter_sets"):
        values[name] = values[name] or {}
    values["project"] = values["project"] or "default"
    values["require_error_ack"] = bool(values["require_error_ack"])
    values["error_acknowledged"] = bool(values["error_acknowledged"])
    return Job(**values)


def event_from(data: dict[str, Any]) -> JobEvent:
    """A ``JobEvent`` from its JSON."""
    return JobEvent(
        event_id=data["event_id"],
        job_id=data["job_id"],
        from_status=None if data["from_status"] is None else Status(data["from_status"]),
        to_status=Status(data["to_status"]),
        user_id=data["user_id"],
        at_ms=data["at_ms"],
        reason=data["reason"],
        attempt=data["attempt"],
    )


def encode(pipeline: Pipeline) -> str:
    """A pipeline as ``POST /pipeline-jobs`` carries it: base64 of its cloudpickle.

    Raises:
        InvalidInput: naming ``pipeline`` when it is not a Pipeline or cannot be pickled.
    """
    if not isinstance(pipeline, Pipeline):
        raise errors.InvalidInput("pipeline", f"expected a Pipeline, got {type(pipeline).__name__}")
    try:
        return base64.b64encode(cloudpickle.dumps(pipeline)).decode("ascii")
    except Exception as exc:  # pickling a user's functions can raise anything
        raise errors.InvalidInput("pipeline", f"cannot be pickled: {exc}") from None


def metrics_from(data: dict[str, Any]) -> PipelineMetrics:
    """``PipelineMetrics`` from their stored (JSON) form."""
    metrics = PipelineMetrics()
    for name, stage in (data.get("stages") or {}).items():
        metrics.stages[name] = StageMetrics(
            name=name,
            kind=str(stage.get("kind", "")),
            received=int(stage.get("received", 0)),
            emitted=int(stage.get("emitted", 0)),
            batches=int(stage.get("batches", 0)),
            idle_batches=int(stage.get("idle_batches", 0)),
            processing_time_ms=float(stage.get("processing_time_ms", 0.0)),
            late_dropped=int(stage.get("late_dropped", 0)),
        )
    return metrics
