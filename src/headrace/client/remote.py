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

import base64
import builtins
import dataclasses
import time
from collections.abc import Sequence
from types import TracebackType
from typing import TYPE_CHECKING, Any

import cloudpickle
import httpx

from headrace import defaults, errors
from headrace.client import workers as client_workers
from headrace.client.remote_control import (
    RemoteJobDefinitions,
    RemotePipelineCommits,
    RemoteProjects,
)
from headrace.client.remote_data import RemoteList, RemoteMap, RemoteStream
from headrace.client.remote_schedules import RemoteSchedules
from headrace.client.transport import Http, error_from, seg
from headrace.engine.metrics import PipelineMetrics, StageMetrics
from headrace.model import status as machine
from headrace.model.job import (
    Job,
    JobEvent,
    JobGroupInfo,
    JobLogLine,
    JobTypeInfo,
    Page,
    SnapshotInfo,
)
from headrace.model.jobconfig import JobConfig
from headrace.model.status import Status
from headrace.pipeline import Pipeline
from headrace.service import tokens
from headrace.service.workers import QueueInfo

if TYPE_CHECKING:
    from headrace.jet.service import JetService

_JOB_FIELDS = tuple(f.name for f in dataclasses.fields(Job))
_TYPE_FIELDS = tuple(f.name for f in dataclasses.fields(JobTypeInfo))


def is_remote(target: str | None) -> bool:
    """Whether a client target names a server (an http or https URL) rather than a store."""
    return isinstance(target, str) and target.startswith(("http://", "https://"))


def type_from(data: dict[str, Any]) -> JobTypeInfo:
    """A ``JobTypeInfo`` from its JSON."""
    values: dict[str, Any] = {k: data.get(k) for k in _TYPE_FIELDS}
    values["labels"] = tuple(values["labels"] or ())
    return JobTypeInfo(**values)


def job_from(data: dict[str, Any]) -> Job:
    """A ``Job`` from its JSON."""
    values: dict[str, Any] = {name: data.get(name) for name in _JOB_FIELDS}
    values["status"] = Status(values["status"])
    values["state"] = values["state"] or {}
    values["tags"] = tuple(values["tags"] or ())
    values["labels"] = tuple(values["labels"] or ())
    for name in ("runtime_parameters", "parameter_sets"):
        values[name] = values[name] or {}
    values["project"] = values["project"] or "default"
    values["require_error_ack"] = bool(values["require_error_ack"])
    values["error_acknowledged"] = bool(values["error_acknowledged"])
    return Job(**values)


def event_from(data: dict[str, Any]) -> JobEvent:
    """A ``JobEvent`` from its JSON."""
    return JobEvent(
        event_id=data["event_id"],
        job_id=data["job_id"],
        from_status=None if data["from_status"] is None else Status(data["from_status"]),
        to_status=Status(data["to_status"]),
        user_id=data["user_id"],
        at_ms=data["at_ms"],
        reason=data["reason"],
        attempt=data["attempt"],
    )


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


def encode(pipeline: Pipeline) -> str:
    """A pipeline as ``POST /pipeline-jobs`` carries it: base64 of its cloudpickle.

    Raises:
        InvalidInput: naming ``pipeline`` when it is not a Pipeline or cannot be pickled.
    """
    if not isinstance(pipeline, Pipeline):
        raise errors.InvalidInput("pipeline", f"expected a Pipeline, got {type(pipeline).__name__}")
    try:
        return base64.b64encode(cloudpickle.dumps(pipeline)).decode("ascii")
    except Exception as exc:  # pickling a user's functions can raise anything
        raise errors.InvalidInput("pipeline", f"cannot be pickled: {exc}") from None


def metrics_from(data: dict[str, Any]) -> PipelineMetrics:
    """``PipelineMetrics`` from their stored (JSON) form."""
    metrics = PipelineMetrics()
    for name, stage in (data.get("stages") or {}).items():
        metrics.stages[name] = StageMetrics(
            name=name,
            kind=str(stage.get("kind", "")),
            received=int(stage.get("received", 0)),
            emitted=int(stage.get("emitted", 0)),
            batches=int(stage.get("batches", 0)),
            idle_batches=int(stage.get("idle_batches", 0)),
            processing_time_ms=float(stage.get("processing_time_ms", 0.0)),
            late_dropped=int(stage.get("late_dropped", 0)),
        )
    return metrics


class RemotePipelines(RemotePipelineCommits):
    """``client.pipelines`` over HTTP: the ``PipelineService`` interface."""

    def __init__(self, http: Http, jobs: RemoteJobs) -> None:
        self._http = http
        self._jobs = jobs

    def run(
        self, pipeline: Pipeline, local_parallelism: int = 1, executor: str | None = None
    ) -> PipelineMetrics:
        """Run the pipeline to completion as a job on the server's workers; its metrics.

        ``executor`` is the job's ``JobConfig.executor`` (``"processes"`` or ``"ray"``).

        Raises:
            PipelineDefinitionError: the pipeline cannot run as defined.
            JobFailed: the job did not complete (``cause`` names the stage and the item).
        """
        config = JobConfig(executor=executor) if executor is not None else None
        job = self.submit(pipeline, config, local_parallelism=local_parallelism)
        done = self._jobs.wait(job.job_id, suspended_ends=False)
        if done.status is not Status.COMPLETED:
            raise errors.JobFailed(done.job_id, str(done.status), done.error)
        return metrics_from(done.result if isinstance(done.result, dict) else {})

    def submit(
        self,
        pipeline: Pipeline,
        config: JobConfig | None = None,
        *,
        local_parallelism: int | None = None,
        name: str | None = None,
        idempotency_key: str | None = None,
    ) -> Job:
        """Submit the pipeline as a job of type ``headrace.pipeline``.

        Raises:
            PipelineDefinitionError: refused before scheduling if it cannot run.
            JobAlreadyExists: an active job of the tenant has the config's name.
            InvalidInput: the config's initial snapshot does not exist, or the pipeline
                cannot be pickled here or unpickled on the server.
        """
        if config is not None and not isinstance(config, JobConfig):
            raise errors.InvalidInput(
                "config", f"expected a JobConfig, got {type(config).__name__}"
            )
        body: dict[str, Any] = {"pipeline": encode(pipeline)}
        if config is not None:
            body["config"] = config.to_dict()
        options = {
            "local_parallelism": local_parallelism,
            "name": name,
            "idempotency_key": idempotency_key,
        }
        body.update({k: v for k, v in options.items() if v is not None})
        return job_from(self._http.created("/pipeline-jobs", body)[0])

    def new_job_if_absent(self, pipeline: Pipeline, config: JobConfig) -> Job:
        """The active job named as the config says, or a new one; one even under races.

        Raises:
            InvalidInput: the config has no name.
        """
        if not isinstance(config, JobConfig) or not config.name:
            raise errors.InvalidInput(
                "config.name", "new_job_if_absent needs a JobConfig with a name"
            )
        body = {"pipeline": encode(pipeline), "config": config.to_dict(), "if_absent": True}
        return job_from(self._http.created("/pipeline-jobs", body)[0])

    def get(self, job_id: str) -> Job:
        """A pipeline job of the tenant.

        Raises:
            NotFound: no such pipeline job.
        """
        return job_from(self._http.call("GET", f"/pipeline-jobs/{seg(job_id)}"))

    def find_named(self, name: str) -> Job | None:
        """The active job of this name, else the most recent one, else None."""
        if not isinstance(name, str) or not name:
            return None
        try:
            return job_from(self._http.call("GET", f"/pipeline-jobs/by-name/{seg(name)}"))
        except errors.NotFound:
            return None

    def list(self, name: str | None = None) -> builtins.list[Job]:
        """Every pipeline job, newest first (optionally only those with this name)."""
        query = {} if name is None else {"name": name}
        return [
            job_from(j) for j in self._http.call("GET", "/pipeline-jobs", params=query)["items"]
        ]

    @staticmethod
    def config_of(job: Job) -> JobConfig:
        """The configuration a pipeline job was submitted with."""
        return JobConfig.from_dict((job.params or {}).get("config") or {})

    def restart(self, job_id: str) -> Job:
        """Stop the running execution and run again from the last snapshot.

        Raises:
            IllegalTransition: the job is not running.
        """
        return job_from(self._http.call("POST", f"/pipeline-jobs/{seg(job_id)}/restart"))

    def export_snapshot(self, job_id: str, name: str, timeout: float = 60.0) -> None:
        """Store a named snapshot of the job that outlives it (replacing that name).

        Raises:
            IllegalTransition: the job has ended, or it runs without snapshots.
            TimeoutException: the running job did not take the snapshot in time.
        """
        self._http.call(
            "POST",
            f"/pipeline-jobs/{seg(job_id)}/snapshots",
            json={"name": name, "timeout": timeout},
            timeout=timeout + self._http.timeout,
        )

    def list_snapshots(self) -> builtins.list[SnapshotInfo]:
        """The tenant's exported snapshots, by name (Jet's ``list-snapshots``)."""
        return [SnapshotInfo(**s) for s in self._http.call("GET", "/snapshots")["items"]]

    def delete_snapshot(self, name: str) -> None:
        """Delete an exported snapshot. Raises: NotFound."""
        self._http.send("DELETE", f"/snapshots/{seg(name)}")

    def cancel(self, job_id: str, force: bool = False) -> Job:
        """Cancel; ``force`` ends it at once even if its execution does not stop.

        Raises:
            IllegalTransition: the job has already ended.
        """
        path = f"/pipeline-jobs/{seg(job_id)}/cancel"
        return job_from(self._http.call("POST", path, json={"force": force}))

    def metrics(self, job_id: str) -> dict[str, Any]:
        """The current run's metrics: live while it runs, final once it ended."""
        data: dict[str, Any] = self._http.call("GET", f"/pipeline-jobs/{seg(job_id)}/metrics")
        return data

    def runs(self, job_id: str) -> builtins.list[dict[str, Any]]:
        """Every run of the job with its metrics, kept after it ends."""
        found: builtins.list[dict[str, Any]] = self._http.call(
            "GET", f"/pipeline-jobs/{seg(job_id)}/runs"
        )["items"]
        return found

    def status_reason(self, job_id: str) -> str:
        """Why the job is in its status, in words (above all: why it is not starting)."""
        return str(self._http.call("GET", f"/pipeline-jobs/{seg(job_id)}/status")["reason"])


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
