"""A schedule request as the ``jobs`` row of a new job: its options checked, its params too.

Shared by ``schedule`` and ``schedule_many``; also what an idempotency key's second use is
compared with (``same_request``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from headrace import errors
from headrace.model import labels as job_labels
from headrace.model import text
from headrace.model.clock import now_ms
from headrace.model.job import Job, JobTypeInfo
from headrace.model.status import Status
from headrace.scheduler import runner
from headrace.store import codec


def options_row(
    info: JobTypeInfo,
    tenant_id: str,
    user_id: str,
    *,
    idempotency_key: str | None = None,
    timeout_sec: int | None = None,
    max_retries: int | None = None,
    retry_delay_sec: int | None = None,
    delay_sec: float = 0,
    name: str | None = None,
    description: str | None = None,
    labels: str | Sequence[str] | None = None,
) -> dict[str, Any]:
    """A new job's ``jobs`` row but its params (``params_text``), its options checked.

    What every job of a ``schedule_many`` shares; ``schedule`` adds the one params.

    Raises:
        InvalidInput: naming the option that is wrong.
    """
    required = tuple(sorted({*job_labels.parse("labels", labels), *info.labels}))
    text.check_optional("name", name, 255)
    text.check_optional("description", description, 10_000)
    at = now_ms()
    return {
        "tenant_id": tenant_id,
        "user_id": user_id,
        "idempotency_key": _key(idempotency_key),
        "type": info.type_id,
        "name": name,
        "description": description,
        "queue": info.queue,
        "scheduled_at_ms": at,
        "updated_at_ms": at,
        "eta_ms": at + int(_non_negative("delay_sec", delay_sec) * 1000),
        "status": str(Status.WAITING),
        "timeout_sec": _option("timeout_sec", timeout_sec, info.timeout_sec),
        "max_retries": _option("max_retries", max_retries, info.max_retries),
        "retry_delay_sec": _option("retry_delay_sec", retry_delay_sec, info.retry_delay_sec),
        "progress": 0.0,
        "attempt": 0,
        "retries": 0,
        "run_count": 1,
        "resumed": False,
        "labels": job_labels.encode(required),
    }


def params_text(info: JobTypeInfo, params_model: Any, params: Any) -> str:
    """``params`` checked against the job type and encoded as the ``params`` column holds it.

    Raises:
        InvalidInput: naming the params' field that is wrong (``params.size``).
    """
    checked = runner.parse_params(params_model, info.params_schema, params)
    params = checked.model_dump(mode="json") if hasattr(checked, "model_dump") else checked
    text.check_value("params", params)
    return codec.dumps(params, "params")


def _key(value: str | None) -> str | None:
    if value is None:
        return None
    key = text.check_text("idempotency_key", str(value), 255)
    if not key:
        raise errors.InvalidInput("idempotency_key", "must be 1..255 characters")
    return key


def same_request(job: Job, row: dict[str, Any]) -> None:
    """Refuse an idempotency key reused for another request (as payment APIs do).

    Raises:
        Conflict: naming the key and what differs (type, params).
    """
    differs = []
    if job.type != row["type"]:
        differs.append(f"type {job.type!r} != {row['type']!r}")
    if job.params != codec.loads(row["params"]):
        differs.append("params")
    if differs:
        key = row["idempotency_key"]
        msg = (
            f"idempotency key {key!r} was used for job {job.job_id} with another request "
            f"({', '.join(differs)} differ); use a new key for a new request"
        )
        raise errors.Conflict(msg)


def _non_negative(field: str, value: float) -> float:
    if not isinstance(value, int | float) or value < 0:
        raise errors.InvalidInput(field, f"must be a number >= 0, got {value!r}")
    return float(value)


def _option(field: str, value: int | None, default: int) -> int:
    if value is None:
        return default
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise errors.InvalidInput(field, f"must be an int >= 0, got {value!r}")
    return value
