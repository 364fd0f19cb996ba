"""A real ``headrace server`` (uvicorn on a loopback port) running in the test process.

The ``client`` fixture's ``remote`` form talks to it over HTTP with the remote client.
It runs in the test's process so that the job types a test registers, closures
included, are the server's job types: the server's registry and workers are the test's.
Everything between the client and the service is the real thing: httpx, a socket,
uvicorn, the FastAPI app, tokens, problem+json, and the remote client's translation back
to ``headrace.errors``.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable
from typing import Any

import uvicorn

from headrace import defaults
from headrace.api.server import Server, ServerOptions
from headrace.client import remote
from headrace.model.job import JobGroupInfo
from headrace.scheduler.registry import DEFAULT, Registry, Target
from headrace.scheduler.worker import Worker
from headrace.service.jobs import JobService, Scope
from headrace.service.tokens import TokenService
from headrace.store.catalog import CatalogRepository
from headrace.store.database import Store


class InProcessServer:
    """``headrace.api.server.Server`` under uvicorn in a thread, on a free loopback port."""

    def __init__(
        self,
        store_url: str,
        lease_sec: float = 3.0,
        workers: int = 1,
        labels: tuple[str, ...] = (),
    ) -> None:
        self.registry = Registry(parent=DEFAULT)
        options = ServerOptions(
            store=store_url, port=0, workers=workers, lease_sec=lease_sec, labels=labels
        )
        self.server = Server(options, registry=self.registry)
        self.tokens = TokenService(self.server.store)
        sock = socket.socket()
        sock.bind(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{sock.getsockname()[1]}"
        config = uvicorn.Config(
            self.server.app,
            log_level="warning",
            access_log=False,
            ws="none",
            lifespan="on",
            timeout_graceful_shutdown=5,
        )
        self.uvicorn = uvicorn.Server(config)
        self.clients: list[ServedClient] = []
        self.thread = threading.Thread(
            target=self.uvicorn.run, kwargs={"sockets": [sock]}, name="api-server", daemon=True
        )
        self.thread.start()
        deadline = time.monotonic() + 30
        while not self.uvicorn.started:
            if not self.thread.is_alive():
                sock.close()
                raise RuntimeError("the in-process server stopped while starting")
            if time.monotonic() > deadline:
                raise RuntimeError("the in-process server did not start in 30 s")
            time.sleep(0.01)
        self._sock = sock

    @property
    def store(self) -> Store:
        return self.server.store

    def client(self, tenant_id: str = defaults.TENANT_ID, user_id: str = defaults.USER_ID,
               role: str = "admin") -> ServedClient:  # fmt: skip
        """A remote client with a fresh token of ``tenant_id``'s ``user_id``."""
        token, _record = self.tokens.create(tenant_id, user_id, role)
        client = ServedClient(self, token)
        self.clients.append(client)
        return client

    def add_worker(self) -> None:
        """Start one more in-process worker of the server (its ``stop`` stops it too)."""
        options = self.server.options
        worker = Worker(
            self.store,
            self.registry,
            options.queues,
            lease_sec=options.lease_sec,
            labels=options.labels,
        )
        self.server.workers.append(worker)
        worker.start()

    def stop(self) -> None:
        """Close the clients, then stop the server (its lifespan stops the workers)."""
        for client in self.clients:
            client.close()
        self.uvicorn.should_exit = True
        self.thread.join(60)
        self._sock.close()
        assert not self.thread.is_alive(), "the in-process server did not stop"


class ServedClient(remote.Client):
    """The remote client, plus what a test of an in-process server may do beside HTTP.

    ``job_type`` and ``job_group`` register into the server's registry (its workers are in
    this process); ``for_tenant`` makes a token of that tenant, as an operator would with
    ``headrace tokens create``, since a remote client's tenant comes from its token.
    """

    def __init__(self, served: InProcessServer, token: str) -> None:
        super().__init__(served.url, token=token)
        self.served = served

    @property
    def store(self) -> Store:
        return self.served.store

    @property
    def registry(self) -> Registry:
        return self.served.registry

    @property
    def worker(self) -> Worker | None:
        return self.served.server.workers[0] if self.served.server.workers else None

    def job_type(self, type_id: str, **options: Any) -> Callable[[Target], Target]:
        decorate = self.registry.decorator(type_id, **options)

        def register(target: Target) -> Target:
            decorate(target)
            JobService(self.store, self.registry, Scope()).job_type(type_id)
            return target

        return register

    def job_group(
        self, name: str, queue: str = defaults.DEFAULT_QUEUE, description: str = ""
    ) -> JobGroupInfo:
        info = self.registry.group(name, queue, description)
        CatalogRepository(self.store).save(info)
        return info

    def for_tenant(self, tenant_id: str, user_id: str | None = None) -> ServedClient:
        return self.served.client(tenant_id, user_id or defaults.USER_ID)
