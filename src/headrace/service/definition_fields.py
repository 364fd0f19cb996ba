"""The fields of a job definition: each checked, and turned into its ``jobs`` columns.

What ``create``, ``update`` and ``duplicate`` share, so a bad value is refused (naming
its field) before anything is written.
"""

from __future__ import annotations

import builtins
from collections.abc import Mapping, Sequence
from typing import Any

from headrace import errors
from headrace.defaults import MAX_COPIES
from headrace.model.job import Job
from headrace.model.jobconfig import JobConfig
from headrace.service.pipeline_job import PIPELINE_JOB_TYPE
from headrace.service.projects import check_name
from headrace.store import codec

#: Fields ``update`` accepts.
UPDATABLE = (
    "name",
    "description",
    "tags",
    "runtime_parameters",
    "parameter_sets",
    "config",
    "params",
    "queue",
    "require_error_ack",
    "pipeline",
    "version",
    "label",
)
#: The ``update`` fields that pin a pipeline job to another commit.
COMMIT_FIELDS = ("pipeline", "version", "label")


def check_copies(count: object) -> int:
    """How many copies ``duplicate`` makes: 1..10,000."""
    if not isinstance(count, int) or isinstance(count, bool) or not 1 <= count <= MAX_COPIES:
        msg = f"must be an int in 1..{MAX_COPIES:,}, got {count!r}"
        raise errors.InvalidInput("count", msg)
    return count


def check_tags(value: object) -> builtins.list[str]:
    """Tags: a list of 1..255-character strings (``a/b`` allowed), sorted, unique."""
    if isinstance(value, str) or not isinstance(value, Sequence):
        raise errors.InvalidInput("tags", f"must be a list of strings, got {value!r}")
    for tag in value:
        if not isinstance(tag, str) or not 0 < len(tag) <= 255:
            raise errors.InvalidInput(
                "tags", f"a tag is 1..255 characters (a/b allowed), got {tag!r}"
            )
    return sorted(set(value))


def check_dict(field: str, value: object) -> dict[str, Any]:
    """A JSON-ready dict with string keys (None: empty)."""
    if value is None:
        return {}
    if not isinstance(value, Mapping) or not all(isinstance(k, str) for k in value):
        raise errors.InvalidInput(field, f"must be a dict with string keys, got {value!r}")
    codec.dumps(dict(value), field)
    return dict(value)


def check_sets(value: object) -> dict[str, dict[str, Any]]:
    """Parameter sets: a name for each dict of parameters."""
    found = check_dict("parameter_sets", value)
    return {
        check_name("parameter_sets", k): check_dict(f"parameter_sets.{k}", v)
        for k, v in found.items()
    }


def check_config(value: object) -> JobConfig:
    """A ``JobConfig``, or a dict of its fields (a bad one is named ``config.<field>``)."""
    if value is None:
        return JobConfig()
    if isinstance(value, JobConfig):
        return value
    if isinstance(value, Mapping):
        try:
            return JobConfig(**value)
        except errors.InvalidInput as exc:
            msg = f"config.{exc.field}"
            raise errors.InvalidInput(msg, str(exc).split(": ", 1)[-1]) from None
    raise errors.InvalidInput("config", f"expected a JobConfig, got {type(value).__name__}")


def changed_columns(job: Job, definition: dict[str, Any], field: str, value: Any) -> dict[str, Any]:
    """The column values one ``update`` field sets (``definition`` is changed in place)."""
    if field not in UPDATABLE:
        msg = f"not updatable; updatable: {', '.join(UPDATABLE)}"
        raise errors.InvalidInput(field, msg)
    if field in ("name", "queue"):
        return {field: check_name(field, value)}
    if field == "description":
        return {field: check_text(field, value)}
    if field == "tags":
        return {field: codec.dumps(check_tags(value), field)}
    if field == "runtime_parameters":
        return {field: codec.dumps(check_dict(field, value), field)}
    if field == "parameter_sets":
        return {field: codec.dumps(check_sets(value), field)}
    if field == "require_error_ack":
        return {field: bool(value)}
    if field == "config":
        if job.type != PIPELINE_JOB_TYPE:
            raise errors.InvalidInput("config", "only a pipeline job has a JobConfig")
        cfg = check_config(value)
        definition.update(config=cfg.to_dict(), local_parallelism=cfg.local_parallelism)
        return {}
    if job.type == PIPELINE_JOB_TYPE:
        raise errors.InvalidInput("params", "a pipeline job takes runtime parameters, not params")
    definition["params"] = value
    return {}


def check_text(field: str, value: object) -> str:
    """A string."""
    if not isinstance(value, str):
        raise errors.InvalidInput(field, f"must be a string, got {value!r}")
    return value


def check_queue(value: object, default: str) -> str:
    """A queue name (None: the job type's own queue)."""
    if value is None:
        return default
    return check_name("queue", value)
