"""Settings from ``config.yaml``: store, queues, labels, ``server``, seed 004's ``job_logger``.

Plain dataclasses with the defaults: a process without a config file (a worker started
with flags alone, as benchmarks and containers start them) gets its settings without
building pydantic models or importing PyYAML. A file is read and checked by
``headrace.config_file``'s pydantic models, imported for that only.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from headrace import defaults
from headrace.model import prefetch as prefetching

Level = Literal["debug", "info", "warning", "error", "critical"]


@dataclass
class JobLoggerSettings:
    """Seed 004's ``job_logger`` section: console and rotating-file logging of jobs."""

    console_level: Level = "info"
    file_level: Level = "debug"
    file: str | None = None
    #: Size at which the file rotates (> 0).
    max_size_mb: int = 1000
    max_backups: int = 3
    max_age_days: int = 28


@dataclass
class ServerSettings:
    """The ``server`` section: how ``headrace server`` serves (its flags and env win)."""

    host: str = "127.0.0.1"
    port: int = 8000
    #: In-process workers; 0 makes an API-only node.
    workers: int = 1
    #: uvicorn processes serving HTTP on one socket; the workers still run once.
    api_processes: int = 1
    #: Modules registering job types, imported as ``--import`` does.
    imports: list[str] = field(default_factory=list)


@dataclass
class Settings:
    """Everything ``config.yaml`` may set."""

    store: str | None = None
    #: Capacity of each queue; a file's queues are added to (or override) the defaults.
    queues: dict[str, int] = field(default_factory=lambda: dict(defaults.QUEUES))
    #: Labels this process's workers offer (``headrace worker`` and ``headrace server``
    #: without ``--labels``, an embedded ``Client`` without ``labels=``), e.g. ``[gpu, eu]``;
    #: checked where a worker takes them (``headrace.model.labels.parse``).
    labels: list[str] = field(default_factory=list)
    #: Jobs each queue of a worker may hold claimed beyond its capacity, waiting for a
    #: slot (``headrace worker --prefetch``, Celery's prefetch): rounds carry more jobs,
    #: at the cost of a long job's neighbours waiting in its worker. 0 claims only what
    #: free slots take at once; ``auto`` holds what the slots should start within 0.1 s
    #: (``headrace.model.prefetch``).
    prefetch: prefetching.Setting = prefetching.AUTO
    job_logger: JobLoggerSettings = field(default_factory=JobLoggerSettings)
    server: ServerSettings = field(default_factory=ServerSettings)


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
    # Imported only when there is a file to read: pydantic, PyYAML and the models'
    # schemas would otherwise be ~90 ms of a worker's start-up (see the module's doc).
    from headrace import config_file

    read = config_file.read(os.fspath(chosen))
    return Settings(
        store=read.store,
        queues=read.queues,
        labels=read.labels,
        prefetch=read.prefetch,
        job_logger=JobLoggerSettings(**read.job_logger.model_dump()),
        server=ServerSettings(**read.server.model_dump()),
    )
