"""``config.yaml`` read and checked: the pydantic models of its sections.

Imported by ``headrace.config.load`` only when there is a file to read, so a process
without one does not build these models nor import PyYAML for them: with pydantic's
import and plugin lookup, 100-130 ms of CPU of a worker's ~0.7 s start-up on 2 busy
cores. (``headrace worker`` still imports pydantic while Typer reads its options; an
embedded client or a worker started from Python does not.) The models' fields and
defaults are ``headrace.config``'s settings, field for field (a test checks they agree).
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import pydantic
import yaml

from headrace import defaults, errors
from headrace.model import prefetch as prefetching

Level = Literal["debug", "info", "warning", "error", "critical"]


class JobLoggerSection(pydantic.BaseModel):
    """Seed 004's ``job_logger`` section: console and rotating-file logging of jobs."""

    model_config = pydantic.ConfigDict(extra="forbid")

    console_level: Level = "info"
    file_level: Level = "debug"
    file: str | None = None
    max_size_mb: int = pydantic.Field(default=1000, gt=0)
    max_backups: int = pydantic.Field(default=3, ge=0)
    max_age_days: int = pydantic.Field(default=28, ge=0)


class ServerSection(pydantic.BaseModel):
    """The ``server`` section: how ``headrace server`` serves (its flags and env win)."""

    model_config = pydantic.ConfigDict(extra="forbid")

    host: str = "127.0.0.1"
    port: int = pydantic.Field(default=8000, ge=0, le=65535)
    workers: int = pydantic.Field(default=1, ge=0)
    api_processes: int = pydantic.Field(default=1, ge=1)
    imports: list[str] = pydantic.Field(default_factory=list)


class SettingsFile(pydantic.BaseModel):
    """Everything ``config.yaml`` may set (``headrace.config.Settings`` says what each is)."""

    model_config = pydantic.ConfigDict(extra="forbid")

    store: str | None = None
    queues: dict[str, int] = pydantic.Field(default_factory=lambda: dict(defaults.QUEUES))
    labels: list[str] = pydantic.Field(default_factory=list)
    prefetch: prefetching.Setting = prefetching.AUTO
    job_logger: JobLoggerSection = pydantic.Field(default_factory=JobLoggerSection)
    server: ServerSection = pydantic.Field(default_factory=ServerSection)

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


def read(path: str | Path) -> SettingsFile:
    """The settings in the YAML file at ``path``, checked.

    Raises:
        InvalidInput: naming the file and the setting that is wrong.
    """
    try:
        raw = yaml.safe_load(Path(path).read_text()) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise errors.InvalidInput(str(path), f"cannot read config: {exc}") from None
    if not isinstance(raw, dict):
        raise errors.InvalidInput(str(path), "config must be a mapping")
    try:
        return SettingsFile.model_validate(raw)
    except pydantic.ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        msg = f"{path}: {where}"
        raise errors.InvalidInput(msg, first["msg"]) from None
