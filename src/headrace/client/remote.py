"""The remote client: the embedded client's interface over a ``headrace server`` (httpx).

``Client("http://host:port", token=...)`` offers ``jobs``, ``job_types``, ``job_groups``,
``pipelines``, ``run``, ``get_jet()`` and ``get_list/get_map/get_stream`` as the embedded
client does, and raises the same ``headrace.errors`` from the server's problem+json
answers. Values in data structures travel as JSON (``remote_data``). A pipeline travels
as cloudpickle: functions defined in ``__main__`` go by value, functions of importable
modules by reference (the server must import their module). ``http=`` takes any
``httpx.Client`` (Starlette's ``TestClient`` is one), so the same tests run in-process
or against a real server.
"""

from __future__ import annotations

import builtins
import time
from collections.abc import Sequence
from types import TracebackType
from typing import TYPE_CHECKING, Any

import httpx

from headrace import defaults, errors
from headrace.client import workers as client_workers
from headrace.client.remote_control import RemoteJobDefinitions, RemoteProjects
from headrace.client.remote_data import RemoteList, RemoteMap, RemoteStream
from headrace.client.remote_pipelines import RemotePipelines
from headrace.client.remote_schedules import RemoteSchedules
from headrace.client.remote_shapes import event_from, job_from, type_from
from headrace.client.transport import Http, error_from, seg
from headrace.engine.metrics import PipelineMetrics
from headrace.model import status as machine
from headrace.model.job import (
    Job,
    JobEvent,
    JobGroupInfo,
    JobLogLine,
    JobTypeInfo,
    Page,
)
from headrace.model.status import Status
from headrace.pipeline import Pipeline
from headrace.service import tokens
from headrace.service.workers import QueueInfo

if TYPE_CHECKING:
    from headrace.jet.service import JetService


def is_remote(target: str | None) -> bool:
    """Whether a client target names a server (an http or https URL) rather than a store."""
    return isinstance(target, str) and target.startswith(("http://", "https://"))


def _ended(job: Job, suspended_ends: bool) -> bool:
    return job.status in machine.FINAL or (suspended_ends and job.status is Status.SUSPENDED)


class RemoteJobs(RemoteJobDefinitions):
    """``client.jobs`` over HTTP: the ``JobService`` interface."""

    def __init__(self, http: Http) -> None:
        self._http = http

    def schedule(self, type: str, params: Any = None, **options: Any) -> Job:
        """Schedule a job; the same idempotency key returns the same job.

        Options: ``idempotency_key``, ``timeout_sec``, ``max_retries``,
        ``retry_delay_sec``, ``delay_sec``, ``name``, ``description``.

        Raises:
            NotFound: the type is not registered. InvalidInput: params or an option.
        """
        return self.schedule_ex(type, params, **options)[0]

    def schedule_ex(self, type: str, params: Any = None, **options: Any) -> tuple[Job, bool]:
        """``schedule``, also telling whether this call created the job."""
        body = {"type": type, "params": params}
        body.update({k: v for k, v in options.items() if v is not None})
        if isinstance(body.get("labels"), str):  # "gpu,eu", as the embedded client takes
            body["labels"] = [p.strip() for p in body["labels"].split(",") if p.strip()]
        data, created = self._http.created("/jobs", body)
        return job_from(data), created

    def schedule_many(self, type: str, params_list: Sequence[Any], **options: Any) -> list[Job]:
        """Schedule one job per params with the same options, all or none, in one request.

        Options: ``timeout_sec``, ``max_retries``, ``retry_delay_sec``, ``delay_sec``,
        ``description``, ``labels``. At most ``MAX_BATCH_JOBS`` jobs a call.

        Returns:
            The jobs, in the order of ``params_list``.

        Raises:
            NotFound: the type is not registered. InvalidInput: a params (named by its
            index, ``params[3].size``), an option, or too many jobs.
        """
        body: dict[str, Any] = {"type": type, "params": list(params_list)}
        body.update({k: v for k, v in options.items() if v is not None})
        if isinstance(body.get("labels"), str):  # "gpu,eu", as the embedded client takes
            body["labels"] = [p.strip() for p in body["labels"].split(",") if p.strip()]
        data = self._http.call("POST", "/jobs/batch", json=body)
        return [job_from(d) for d in data["items"]]

    def get(self, job_id: str) -> Job:
        """The tenant's job.

        Raises:
            NotFound: no such job in this tenant.
        """
        return job_from(self._http.call("GET", f"/jobs/{seg(job_id)}"))

    def status_reason(self, job_id: str) -> str:
        """Why the job is in its status, in words. Raises: NotFound."""
        return str(self._http.call("GET", f"/jobs/{seg(job_id)}/status")["reason"])

    def list(
        self,
        page: int = 1,
        limit: int = 10,
        status: str | Sequence[str] | None = None,
        order: str = "-scheduled_at",
        type: str | None = None,
    ) -> Page[Job]:
        """A page of the tenant's jobs.

        Raises:
            InvalidInput: naming ``page``, ``limit``, ``status`` or ``order``.
        """
        query: dict[str, Any] = {"page": page, "limit": limit, "order": order}
        if status:
            query["status"] = status if isinstance(status, str) else ",".join(status)
        if type is not None:
            query["type"] = type
        data = self._http.call("GET", "/jobs", params=query)
        return Page(
            items=[job_from(j) for j in data["items"]],
            total=data["total"],
            page=data["page"],
            limit=data["limit"],
        )

    def events(self, job_id: str) -> builtins.list[JobEvent]:
        """The job's status changes, oldest first."""
        data = self._http.call("GET", f"/jobs/{seg(job_id)}/events")
        return [event_from(e) for e in data["items"]]

    def logs(self, job_id: str) -> builtins.list[JobLogLine]:
        """The job's log lines, oldest first."""
        data = self._http.call("GET", f"/jobs/{seg(job_id)}/logs")
        return [JobLogLine(**line) for line in data["items"]]

    def _control(self, job_id: str, action: str, reason: str | None) -> Job:
        body = None if reason is None else {"reason": reason}
        return job_from(self._http.call("POST", f"/jobs/{seg(job_id)}/{action}", json=body))

    def cancel(self, job_id: str, reason: str | None = None) -> Job:
        """Cancel a job (``reason`` goes into its event). Raises: NotFound, IllegalTransition."""
        return self._control(job_id, "cancel", reason)

    def suspend(self, job_id: str, reason: str | None = None) -> Job:
        """Suspend a job (``reason`` into its details). Raises: NotFound, IllegalTransition."""
        return self._control(job_id, "suspend", reason)

    def resume(self, job_id: str, reason: str | None = None) -> Job:
        """Resume a suspended job. Raises: NotFound, IllegalTransition."""
        return self._control(job_id, "resume", reason)

    def retry(self, job_id: str, reason: str | None = None) -> Job:
        """Start a new run of a failed or timed-out job. Raises: NotFound, IllegalTransition."""
        return self._control(job_id, "retry", reason)

    def resolve(self, job_id: str) -> str:
        """The full id of the job that ``job_id`` (an id or a unique prefix) names.

        Raises:
            InvalidInput: not hex. NotFound: no match. Conflict: several jobs match.
        """
        return str(self._http.call("GET", f"/jobs/by-prefix/{seg(job_id)}")["job_id"])

    def purge(self, queue: str) -> builtins.list[str]:
        """Cancel the tenant's waiting jobs on ``queue``; returns their ids."""
        data = self._http.call("POST", f"/queues/{seg(queue)}/purge")
        return [str(i) for i in data["canceled"]]

    def delete(self, job_id: str, force: bool = False) -> Job:
        """Delete a job no worker holds (``force``: stop its run first).

        Raises:
            NotFound, IllegalTransition.
        """
        query = {"force": "true"} if force else {}
        return job_from(self._http.call("DELETE", f"/jobs/{seg(job_id)}", params=query))

    def wait(
        self, job_id: str, timeout: float | None = None, *, suspended_ends: bool = True
    ) -> Job:
        """Block until the job is final (or suspended, unless ``suspended_ends=False``).

        Long-polls ``GET /jobs/{id}/wait``: the server answers as soon as the job ends.

        Raises:
            NotFound: no such job. TimeoutException: still going after ``timeout`` s.
        """
        deadline = None if timeout is None else time.monotonic() + timeout
        path = f"/jobs/{seg(job_id)}/wait"
        while True:
            hold = defaults.LONG_POLL_SEC
            if deadline is not None:
                hold = max(0.0, min(hold, deadline - time.monotonic()))
            query = {"timeout": round(hold, 3), "suspended_ends": str(suspended_ends).lower()}
            data = self._http.call("GET", path, params=query, timeout=hold + self._http.timeout)
            job = job_from(data)
            if _ended(job, suspended_ends):
                return job
            if deadline is not None and time.monotonic() >= deadline:
                msg = f"job {job_id} still {job.status} after {timeout} s"
                raise errors.TimeoutException(msg)


class RemoteJobTypes:
    """``client.job_types`` over HTTP."""

    def __init__(self, http: Http) -> None:
        self._http = http

    def list(self, page: int = 1, limit: int = 100) -> Page[JobTypeInfo]:
        """A page of job types, by id (iterable, like ``jobs.list()``). Raises: InvalidInput."""
        data = self._http.call("GET", "/job-types", params={"page": page, "limit": limit})
        items = [type_from(t) for t in data["items"]]
        return Page(items=items, total=data["total"], page=data["page"], limit=data["limit"])

    def get(self, type_id: str) -> JobTypeInfo:
        """One job type. Raises: NotFound."""
        return type_from(self._http.call("GET", f"/job-types/{seg(type_id)}"))


class RemoteJobGroups:
    """``client.job_groups`` over HTTP."""

    def __init__(self, http: Http) -> None:
        self._http = http

    def list(self, page: int = 1, limit: int = 100) -> Page[JobGroupInfo]:
        """A page of job groups, by name (iterable, like ``jobs.list()``). Raises: InvalidInput."""
        data = self._http.call("GET", "/job-groups", params={"page": page, "limit": limit})
        items = [JobGroupInfo(**g) for g in data["items"]]
        return Page(items=items, total=data["total"], page=data["page"], limit=data["limit"])

    def get(self, name: str) -> JobGroupInfo:
        """One job group. Raises: NotFound."""
        return JobGroupInfo(**self._http.call("GET", f"/job-groups/{seg(name)}"))


class Client:
    """Headrace over HTTP: the embedded ``Client``'s interface against a ``headrace server``.

    Raises (from any call): the ``headrace.errors`` the server's problem names;
    ``StoreUnavailable`` when the server cannot be reached.
    """

    def __init__(
        self,
        url: str,
        *,
        token: str | None = None,
        timeout: float = defaults.HTTP_TIMEOUT_SEC,
        http: httpx.Client | None = None,
    ) -> None:
        self.url = url
        self._http = Http(url, token, timeout, http)
        self.jobs = RemoteJobs(self._http)
        self.job_types = RemoteJobTypes(self._http)
        self.job_groups = RemoteJobGroups(self._http)
        self.pipelines = RemotePipelines(self._http, self.jobs)
        self.projects = RemoteProjects(self._http)
        self.schedules = RemoteSchedules(self._http)
        from headrace.client.remote_archives import RemoteArchives  # it imports this module

        self.archives = RemoteArchives(self._http)

    def queues(self) -> builtins.list[QueueInfo]:
        """Every queue: capacity of live workers, the tenant's jobs on it by status."""
        return [QueueInfo(**q) for q in self._http.call("GET", "/queues")["items"]]

    @property
    def workers(self) -> client_workers.RemoteWorkers:
        """The worker processes: ``client.workers()`` lists them, ``.balance()`` balances."""
        return client_workers.RemoteWorkers(
            self._http,
            lambda: client_workers.records(self._http.call("GET", "/workers")["items"]),
        )

    def whoami(self) -> dict[str, str]:
        """The tenant, user and role this client's token grants."""
        data: dict[str, str] = self._http.call("GET", "/whoami")
        return data

    def for_tenant(self, tenant_id: str, user_id: str | None = None) -> Client:
        """This client, if its token already grants ``tenant_id`` (a token fixes the tenant).

        ``tenant_id`` is a UUID or a name, as ``headrace tokens create --tenant`` takes it.

        Raises:
            PermissionDenied: the token is another tenant's.
        """
        me = self.whoami()
        tenant = tokens.identity("tenant", tenant_id)[0]
        user = None if not user_id else tokens.identity("user", user_id)[0]
        if me["tenant_id"] != tenant or (user is not None and me["user_id"] != user):
            msg = "a remote client's tenant and user come from its token; use another token"
            raise errors.PermissionDenied(msg)
        return self

    def get_list(self, name: str) -> RemoteList:
        """The named List.

        Raises:
            InvalidInput: for an empty or over-long name.
        """
        return RemoteList(self._http, name)

    def get_map(self, name: str) -> RemoteMap:
        """The named Map (string keys).

        Raises:
            InvalidInput: for an empty or over-long name.
        """
        return RemoteMap(self._http, name)

    def get_stream(self, name: str, partitions: int | None = None) -> RemoteStream:
        """The named Stream, created with ``partitions`` partitions (default 1) if missing.

        Raises:
            InvalidInput: ``partitions`` contradicts an existing Stream's count.
        """
        return RemoteStream(self._http, name, partitions)

    def run(
        self, pipeline: Pipeline, local_parallelism: int = 1, executor: str | None = None
    ) -> PipelineMetrics:
        """Run a pipeline to completion on the server's workers; returns its metrics.

        Unlike the embedded client, which runs it in the caller, this submits it as a job
        and waits for it: a failing user function raises ``JobFailed`` naming the stage.

        Raises:
            PipelineDefinitionError: the pipeline cannot run as defined.
            JobFailed: the job did not complete.
        """
        return self.pipelines.run(pipeline, local_parallelism, executor)

    def get_jet(self) -> JetService:
        """The Jet service (seed 001): submit pipelines as jobs and manage them."""
        from headrace.jet.service import JetService

        return JetService(self)

    def close(self) -> None:
        """Close the HTTP connections."""
        self._http.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


__all__ = ["Client", "RemoteList", "RemoteMap", "RemoteStream", "error_from", "is_remote"]
