"""Settings from ``config.yaml``: store, queues, labels, ``server``, seed 004's ``job_logger``."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal

import pydantic
import yaml

from headrace import defaults, errors
from headrace.model import prefetch as prefetching

Level = Literal["debug", "info", "warning", "error", "critical"]


class JobLoggerSettings(pydantic.BaseModel):
    """Seed 004's ``job_logger`` section: console and rotating-file logging of jobs."""

    model_config = pydantic.ConfigDict(extra="forbid")

    console_level: Level = "info"
    file_level: Level = "debug"
    file: str | None = None
    max_size_mb: int = pydantic.Field(default=1000, gt=0)
    max_backups: int = pydantic.Field(default=3, ge=0)
    max_age_days: int = pydantic.Field(default=28, ge=0)


class ServerSettings(pydantic.BaseModel):
    """The ``server`` section: how ``headrace server`` serves (its flags and env win)."""

    model_config = pydantic.ConfigDict(extra="forbid")

    host: str = "127.0.0.1"
    port: int = pydantic.Field(default=8000, ge=0, le=65535)
    #: In-process workers; 0 makes an API-only node.
    workers: int = pydantic.Field(default=1, ge=0)
    #: uvicorn processes serving HTTP on one socket; the workers still run once.
    api_processes: int = pydantic.Field(default=1, ge=1)
    #: Modules registering job types, imported as ``--import`` does.
    imports: list[str] = pydantic.Field(default_factory=list)


class Settings(pydantic.BaseModel):
    """Everything ``config.yaml`` may set."""

    model_config = pydantic.ConfigDict(extra="forbid")

    store: str | None = None
    queues: dict[str, int] = pydantic.Field(default_factory=lambda: dict(defaults.QUEUES))
    #: Labels this process's workers offer (``headrace worker`` and ``headrace server``
    #: without ``--labels``, an embedded ``Client`` without ``labels=``), e.g. ``[gpu, eu]``;
    #: checked where a worker takes them (``headrace.model.labels.parse``).
    labels: list[str] = pydantic.Field(default_factory=list)
    #: Jobs each queue of a worker may hold claimed beyond its capacity, waiting for a
    #: slot (``headrace worker --prefetch``, Celery's prefetch): rounds carry more jobs,
    #: at the cost of a long job's neighbours waiting in its worker. 0 claims only what
    #: free slots take at once; ``auto`` holds what the slots should start within 0.1 s
    #: (``headrace.model.prefetch``).
    prefetch: prefetching.Setting = prefetching.AUTO
    job_logger: JobLoggerSettings = pydantic.Field(default_factory=JobLoggerSettings)
    server: ServerSettings = pydantic.Field(default_factory=ServerSettings)

    @pydantic.field_validator("prefetch", mode="before")
    @classmethod
    def _prefetch(cls, value: object) -> prefetching.Setting:
        return prefetching.parse(value)  # an InvalidInput is a ValueError pydantic reports

    @pydantic.field_validator("queues")
    @classmethod
    def _capacities(cls, queues: dict[str, int]) -> dict[str, int]:
        for name, capacity in queues.items():
            if capacity < 1:
                msg = f"queue {name!r} needs a capacity >= 1, got {capacity}"
                raise ValueError(msg)
        return {**defaults.QUEUES, **queues}


def load(path: str | os.PathLike[str] | None = None) -> Settings:
    """Settings from ``path``, else ``$HEADRACE_CONFIG``, else ``./config.yaml`` if present.

    Raises:
        InvalidInput: naming the file and the setting that is wrong.
    """
    chosen = path or os.environ.get("HEADRACE_CONFIG")
    if chosen is None:
        if not Path("config.yaml").exists():
            return Settings()
        chosen = "config.yaml"
    try:
        raw = yaml.safe_load(Path(chosen).read_text()) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise errors.InvalidInput(str(chosen), f"cannot read config: {exc}") from None
    if not isinstance(raw, dict):
        raise errors.InvalidInput(str(chosen), "config must be a mapping")
    try:
        return Settings.model_validate(raw)
    except pydantic.ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        msg = f"{chosen}: {where}"
        raise errors.InvalidInput(msg, first["msg"]) from None
