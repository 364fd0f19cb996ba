"""How a pipeline job runs: name, processing guarantee, snapshots, limits (seeds 000, 001)."""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from headrace import defaults, errors


class ProcessingGuarantee(StrEnum):
    """What a pipeline job promises about its output when it restarts."""

    NONE = "none"
    AT_LEAST_ONCE = "at_least_once"
    EXACTLY_ONCE = "exactly_once"


#: Alternative spellings the seeds use, and the one field each means.
ALIASES = {
    "snapshot_interval_millis": "snapshot_interval_ms",
    "auto_scaling_enabled": "auto_scaling",
}

#: field -> (accepted types, default, check)
FIELDS: dict[str, tuple[tuple[type, ...], Any]] = {
    "name": ((str, type(None)), None),
    "processing_guarantee": ((ProcessingGuarantee, str), ProcessingGuarantee.NONE),
    "snapshot_interval_ms": ((int,), 10_000),
    "auto_scaling": ((bool,), True),
    "split_brain_protection": ((bool,), False),
    "max_processor_accumulated_records": ((int, type(None)), None),
    "initial_snapshot_name": ((str, type(None)), None),
    "suspend_on_failure": ((bool,), False),
    "timeout_ms": ((int, type(None)), None),
    "local_parallelism": ((int,), 1),
    "store_metrics_after_completion": ((bool,), True),
    "max_retries": ((int,), 0),
    "output_interval_ms": ((int,), defaults.OUTPUT_INTERVAL_MS),
    "executor": ((str,), "processes"),
    "ray_address": ((str, type(None)), None),
}

#: Where a pipeline job's partitions run: worker processes here, or Ray actors
#: (``ray_address``, else ``RAY_ADDRESS``, else a local Ray; needs ``headrace[ray]``).
EXECUTORS = ("processes", "ray")


class JobConfig:
    """A pipeline job's configuration; every field is checked when set.

    Both spellings the seeds use are accepted (``snapshot_interval_ms`` /
    ``snapshot_interval_millis``, ``auto_scaling`` / ``auto_scaling_enabled``).

    Raises:
        ValueError: (``InvalidInput``) naming the field, for an unknown field, a wrong
            type or a value out of range.
    """

    name: str | None
    processing_guarantee: ProcessingGuarantee
    snapshot_interval_ms: int
    auto_scaling: bool
    split_brain_protection: bool
    max_processor_accumulated_records: int | None
    initial_snapshot_name: str | None
    suspend_on_failure: bool
    timeout_ms: int | None
    local_parallelism: int
    store_metrics_after_completion: bool
    max_retries: int
    #: EXACTLY_ONCE: a snapshot commits the held output at least this often (ms).
    output_interval_ms: int
    executor: str
    ray_address: str | None

    def __init__(self, **options: Any) -> None:
        for field, (_types, default) in FIELDS.items():
            object.__setattr__(self, field, default)
        for key, value in options.items():
            setattr(self, key, value)

    def __setattr__(self, key: str, value: Any) -> None:
        field = ALIASES.get(key, key)
        if field not in FIELDS:
            known = ", ".join(sorted([*FIELDS, *ALIASES]))
            raise errors.InvalidInput(key, f"unknown JobConfig field; known: {known}")
        object.__setattr__(self, field, _checked(field, value, key))

    def __getattr__(self, key: str) -> Any:
        # Only reached for names not set on the instance: the aliases.
        if key in ALIASES:
            return getattr(self, ALIASES[key])
        raise AttributeError(key)

    def to_dict(self) -> dict[str, Any]:
        """The configuration as JSON-ready values (what the store keeps)."""
        return {
            f: (str(v) if isinstance(v, ProcessingGuarantee) else v)
            for f in FIELDS
            for v in [getattr(self, f)]
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> JobConfig:
        """A configuration from ``to_dict``'s form."""
        return cls(**{k: v for k, v in data.items() if k in FIELDS})

    def __eq__(self, other: object) -> bool:
        return isinstance(other, JobConfig) and self.to_dict() == other.to_dict()

    def __hash__(self) -> int:
        return hash(tuple(sorted((k, str(v)) for k, v in self.to_dict().items())))

    def __repr__(self) -> str:
        fields = ", ".join(f"{k}={v!r}" for k, v in self.to_dict().items())
        return f"JobConfig({fields})"


def _checked(field: str, value: Any, label: str) -> Any:
    types, _default = FIELDS[field]
    if isinstance(value, bool) and bool not in types:
        raise errors.InvalidInput(label, f"expected {_names(types)}, got {value!r}")
    if not _is_instance(value, types):
        raise errors.InvalidInput(
            label, f"expected {_names(types)}, got {type(value).__name__} {value!r}"
        )
    if field == "processing_guarantee":
        try:
            return ProcessingGuarantee(str(value).lower())
        except ValueError:
            choices = ", ".join(g.name for g in ProcessingGuarantee)
            raise errors.InvalidInput(
                field, f"unknown guarantee {value!r}; expected {choices}"
            ) from None
    if field in ("snapshot_interval_ms", "local_parallelism", "output_interval_ms") and value < 1:
        raise errors.InvalidInput(label, f"must be >= 1, got {value}")
    if (
        field in ("max_processor_accumulated_records", "timeout_ms")
        and value is not None
        and value < 1
    ):
        raise errors.InvalidInput(label, f"must be >= 1 or None, got {value}")
    if field == "executor" and value not in EXECUTORS:
        raise errors.InvalidInput(label, f"unknown executor {value!r}; expected one of {EXECUTORS}")
    if field == "max_retries" and value < 0:
        raise errors.InvalidInput(label, f"must be >= 0, got {value}")
    if (
        field in ("name", "initial_snapshot_name")
        and value is not None
        and not 0 < len(value) <= 255
    ):
        raise errors.InvalidInput(label, "must be 1..255 characters")
    return value


def _is_instance(value: Any, types: tuple[type, ...]) -> bool:
    # A function, so the caller's ``value`` keeps its ``Any`` type after the check.
    return isinstance(value, types)


def _names(types: tuple[type, ...]) -> str:
    return " or ".join("None" if t is type(None) else t.__name__ for t in types)
