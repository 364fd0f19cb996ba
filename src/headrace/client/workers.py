"""``client.workers``: list the worker processes, and balance streaming jobs among them.

Callable too (``client.workers()`` lists), as it was before it grew ``balance``.
"""

from __future__ import annotations

import builtins
import dataclasses
from collections.abc import Callable, Sequence
from typing import Any

from headrace.client.transport import Http
from headrace.service.balance import Balancer, Move
from headrace.service.jobs import JobService
from headrace.service.workers import WorkerService
from headrace.store.workers import WorkerRecord


class Workers:
    """The embedded client's workers: the store's, balanced for the client's tenant."""

    def __init__(self, jobs: JobService, lease_sec: float) -> None:
        self._jobs = jobs
        self._lease_sec = lease_sec

    def __call__(self) -> builtins.list[WorkerRecord]:
        """Every registered worker process (as ``list``)."""
        return self.list()

    def list(self) -> builtins.list[WorkerRecord]:
        """Every registered worker process (of any client sharing the store)."""
        return WorkerService(self._jobs.store).workers()

    def balance(self, worker_ids: Sequence[str] | None = None) -> builtins.list[Move]:
        """Move running streaming pipeline jobs from the most to the least loaded workers.

        Each move suspends the job with a snapshot and resumes it on the other worker
        (exactly-once jobs lose and duplicate nothing). ``worker_ids``: the workers to
        balance among, every live one by default.

        Raises:
            NotFound: a worker id that is not a live worker.
            TimeoutException: a job did not suspend in time.
        """
        return Balancer(self._jobs, self._lease_sec).balance(worker_ids)


class RemoteWorkers:
    """``client.workers`` over HTTP (``GET /workers``, ``POST /workers/balance``)."""

    def __init__(self, http: Http, call_list: Callable[[], builtins.list[WorkerRecord]]) -> None:
        self._http = http
        self._list = call_list

    def __call__(self) -> builtins.list[WorkerRecord]:
        """Every registered worker process (as ``list``)."""
        return self.list()

    def list(self) -> builtins.list[WorkerRecord]:
        """Every registered worker process, newest heartbeat first."""
        return self._list()

    def balance(self, worker_ids: Sequence[str] | None = None) -> builtins.list[Move]:
        """As the embedded ``balance``, on the server. Raises: NotFound, TimeoutException."""
        body: dict[str, Any] = {"worker_ids": None if worker_ids is None else list(worker_ids)}
        data = self._http.call("POST", "/workers/balance", json=body, timeout=120)
        return [Move(**m) for m in data["moves"]]


def records(items: builtins.list[dict[str, Any]]) -> builtins.list[WorkerRecord]:
    """``WorkerRecord``s from the JSON of ``GET /workers``."""
    fields = {f.name for f in dataclasses.fields(WorkerRecord)}
    found = []
    for w in items:
        values = {k: v for k, v in w.items() if k in fields}
        values["labels"] = tuple(values.get("labels") or ())
        found.append(WorkerRecord(**values))
    return found
