"""``headrace server``: the API under uvicorn, with in-process workers sharing its store."""

from __future__ import annotations

import importlib
import ipaddress
import logging
import os
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from types import FrameType
from typing import Any

import uvicorn
from fastapi import FastAPI

from headrace import collector, defaults, errors
from headrace.api import auth, processes
from headrace.api.app import create_app
from headrace.api.auth import ApiState
from headrace.model import labels as job_labels
from headrace.model import prefetch as prefetching
from headrace.scheduler.registry import DEFAULT, Registry
from headrace.scheduler.worker import Worker
from headrace.service import catalog, ticker
from headrace.store.database import Store

log = logging.getLogger("headrace.server")


@dataclass
class ServerOptions:
    """How to run a server; the CLI fills it from flags, environment and ``config.yaml``."""

    store: str | None = None
    host: str = "127.0.0.1"
    port: int = 8000
    workers: int = 1
    queues: dict[str, int] = field(default_factory=lambda: dict(defaults.QUEUES))
    imports: list[str] = field(default_factory=list)
    insecure_local: bool = False
    metrics_all_tenants: bool = False
    lease_sec: float = defaults.LEASE_SEC
    #: Labels the in-process workers offer (``--labels gpu,eu``), as ``headrace worker``'s.
    labels: tuple[str, ...] = ()
    #: uvicorn processes serving HTTP on one socket (``api.processes``); the workers and
    #: the maintenance ticker run once, in the parent, whatever this is.
    api_processes: int = 1
    #: Jobs each queue of a worker holds claimed beyond its capacity (``Worker``).
    prefetch: prefetching.Setting = prefetching.AUTO


def is_loopback(host: str) -> bool:
    """Whether ``host`` names this machine only (what ``--insecure-local`` requires)."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check(options: ServerOptions) -> None:
    """Refuse options that cannot work or are unsafe.

    Raises:
        InvalidInput: naming ``host``, ``port``, ``workers`` or ``labels``.
    """
    if options.insecure_local and not is_loopback(options.host):
        msg = "host"
        raise errors.InvalidInput(
            msg, f"--insecure-local serves without tokens, so only on loopback, not {options.host}"
        )
    if not 0 <= options.port <= 65535:
        raise errors.InvalidInput("port", f"must be in 0..65535, got {options.port}")
    if options.workers < 0:
        raise errors.InvalidInput("workers", f"must be >= 0, got {options.workers}")
    job_labels.parse("labels", options.labels)
    if options.api_processes < 1:
        msg = f"must be >= 1, got {options.api_processes}"
        raise errors.InvalidInput("api_processes", msg)


class _Uvicorn(uvicorn.Server):
    """Uvicorn, except that a stop by SIGTERM/SIGINT exits 0 as ``headrace worker`` does.

    ``on_exit`` runs at the signal, before uvicorn waits for open requests: event streams
    end on it rather than hold the shutdown for its whole grace period.
    """

    def __init__(self, config: uvicorn.Config, on_exit: Callable[[], None]) -> None:
        super().__init__(config)
        self._on_exit = on_exit

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        self._on_exit()
        super().handle_exit(sig, frame)
        # Uvicorn re-raises the signal after its graceful shutdown; a clean stop is not a kill.
        self._captured_signals.clear()


class Server:
    """The store, the in-process workers and the app of one ``headrace server``.

    ``registry`` holds the job types its workers run and its API accepts: the process's
    (``DEFAULT``, what ``--import`` modules register into) unless a host process that
    embeds the server gives its own.

    ``api_process``: this is one of ``--api-processes`` N processes (``api.processes``),
    which serves HTTP only and announces itself by its pid.
    """

    def __init__(
        self, options: ServerOptions, registry: Registry = DEFAULT, *, api_process: bool = False
    ) -> None:
        check(options)
        if options.api_processes > 1 and registry is not DEFAULT:
            msg = "API processes import their job types from --import modules, not a registry"
            raise errors.InvalidInput("api_processes", msg)
        self.options = options
        self.api_process = api_process
        for module in options.imports:
            importlib.import_module(module)
        self.registry = registry
        self.store = Store(options.store, background_checkpoints=True)
        catalog.store_declared(self.store, registry)
        self.workers = [
            Worker(
                self.store,
                registry,
                options.queues,
                lease_sec=options.lease_sec,
                labels=options.labels,
                prefetch=options.prefetch,
            )
            for _ in range(options.workers)
        ]
        if self.workers:  # one ticker a process: its workers share one maintenance holder
            ticker.attach(self.workers[0])
        self.state = ApiState(
            self.store,
            registry,
            insecure_local=options.insecure_local,
            metrics_all_tenants=options.metrics_all_tenants,
            queues=options.queues,
            wake=self.wake,
        )
        self.app: FastAPI = create_app(self.state, self.start, self.stop)

    def wake(self) -> None:
        """Tell the in-process workers that jobs may be waiting."""
        for w in self.workers:
            w.wake()

    def start(self) -> None:
        """Start the in-process workers."""
        for w in self.workers:
            w.start()
        if self.api_process:
            print(f"headrace API process {os.getpid()} serving", file=sys.stderr, flush=True)
            return
        mode = " (insecure-local: no tokens)" if self.options.insecure_local else ""
        offered = f", labels {','.join(self.options.labels)}" if self.options.labels else ""
        if self.options.api_processes > 1:
            mode += f", {self.options.api_processes} API processes"
        if self.options.insecure_local:
            print(
                "warning: --insecure-local: every request acts as the default tenant's admin; "
                "Authorization headers are ignored (responses to them say so in "
                f"{auth.INSECURE_HEADER}). Serve without it and use `headrace tokens create` "
                "to keep tenants apart.",
                file=sys.stderr,
                flush=True,
            )
        print(
            f"headrace server on http://{self.options.host}:{self.options.port}{mode}, "
            f"{len(self.workers)} worker(s){offered}, store {self.store.dialect.name}",
            file=sys.stderr,
            flush=True,
        )

    def stop(self) -> None:
        """Stop the workers (handing back what they run) and close the store."""
        for w in self.workers:
            w.stop()
        self.store.close()

    def run(self) -> None:
        """Serve until SIGINT or SIGTERM: in this process, or in ``api_processes`` children."""
        settings: dict[str, Any] = {
            "host": self.options.host,
            "port": self.options.port,
            "log_level": "warning",
            "access_log": False,
            "timeout_graceful_shutdown": 10,
            "timeout_keep_alive": defaults.SERVER_KEEP_ALIVE_SEC,
        }
        if self.workers:  # it runs jobs too, as ``headrace worker`` does
            collector.serve_jobs()
        else:
            collector.freeze_start_up()
        if self.options.api_processes > 1:
            processes.run(self, settings)
            return
        config = uvicorn.Config(self.app, **settings)
        _Uvicorn(config, on_exit=self.app.state.stopping.set).run()
