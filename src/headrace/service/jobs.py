"""Scheduling and managing jobs for one tenant: the use cases under every interface."""

from __future__ import annotations

import builtins
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from headrace import defaults, errors
from headrace.model import status as machine
from headrace.model import text
from headrace.model.clock import now_ms
from headrace.model.job import Job, JobEvent, JobLogLine, JobTypeInfo, Page
from headrace.model.status import Status
from headrace.scheduler.registry import Registry
from headrace.service import catalog, job_requests, reasons
from headrace.service.definitions import JobDefinitions
from headrace.service.offsets import JobOffsets
from headrace.service.run_records import RunRecords
from headrace.store.catalog import CatalogRepository
from headrace.store.database import Store
from headrace.store.job_rows import ORDERABLE
from headrace.store.jobs import JobRepository

S = Status


@dataclass(frozen=True)
class Scope:
    """Who is asking: every call is confined to this tenant."""

    tenant_id: str = defaults.TENANT_ID
    user_id: str = defaults.USER_ID


class JobService(JobDefinitions, RunRecords, JobOffsets):
    """Schedule, read, list, control and wait for one tenant's jobs (and define and start them)."""

    def __init__(
        self,
        store: Store,
        registry: Registry,
        scope: Scope,
        on_scheduled: Callable[[], None] = lambda: None,
        origin: str | None = None,
    ) -> None:
        self.store = store
        #: The embedded process whose jobs these are (``jobs.origin``), else None.
        self.origin = origin
        self.registry = registry
        self.scope = scope
        self.repo = JobRepository(store)
        self.catalog = CatalogRepository(store)
        self._on_scheduled = on_scheduled
        #: Types registered in this process, as this service last found them stored: a
        #: type is stored (or checked) once per service, not on every schedule.
        self._stored: dict[str, JobTypeInfo] = {}

    # -- scheduling ---------------------------------------------------------------------

    def job_type(self, type_id: str) -> JobTypeInfo:
        """The stored job type, storing it first if only this process has registered it.

        Raises:
            NotFound: no process has registered the type.
        """
        spec = self.registry.get(type_id)
        if spec is not None:
            if self._stored.get(type_id) == spec.info:
                return spec.info
            stored = self.catalog.get_type(type_id)
            if stored != spec.info:
                group = self.registry.get_group(spec.info.group_name)
                assert group is not None
                self.catalog.save(group, spec.info)
            self._stored[type_id] = spec.info
            return spec.info
        stored = self.catalog.get_type(type_id)
        if stored is None:
            raise errors.NotFound("job type", type_id)
        return stored

    def schedule(
        self,
        type: str,
        params: Any = None,
        *,
        idempotency_key: str | None = None,
        timeout_sec: int | None = None,
        max_retries: int | None = None,
        retry_delay_sec: int | None = None,
        delay_sec: float = 0,
        name: str | None = None,
        description: str | None = None,
        labels: str | Sequence[str] | None = None,
    ) -> Job:
        """Schedule a job of a registered type; the same idempotency key returns the same job.

        ``labels`` are what a worker must offer to claim it, besides its type's.

        Raises:
            NotFound: the type is not registered.
            InvalidInput: params fail the type's schema, or an option is out of range.
        """
        return self.schedule_ex(
            type,
            params,
            idempotency_key=idempotency_key,
            timeout_sec=timeout_sec,
            max_retries=max_retries,
            retry_delay_sec=retry_delay_sec,
            delay_sec=delay_sec,
            name=name,
            description=description,
            labels=labels,
        )[0]

    def schedule_ex(
        self,
        type: str,
        params: Any = None,
        *,
        idempotency_key: str | None = None,
        timeout_sec: int | None = None,
        max_retries: int | None = None,
        retry_delay_sec: int | None = None,
        delay_sec: float = 0,
        name: str | None = None,
        description: str | None = None,
        queue: str | None = None,
        labels: str | Sequence[str] | None = None,
    ) -> tuple[Job, bool]:
        """``schedule``, also telling whether this call created the job (False: same key).

        ``queue`` picks one of the type's queues (the pipeline type's streaming jobs go to
        their own); by default the type's queue.

        Raises:
            NotFound: the type is not registered.
            InvalidInput: params fail the type's schema, an option is out of range, or the
            type is not run from ``queue``.
        """
        info = self.job_type(text.check_text("type", type, 255))
        row = job_requests.options_row(
            info,
            self.scope.tenant_id,
            self.scope.user_id,
            idempotency_key=idempotency_key,
            timeout_sec=timeout_sec,
            max_retries=max_retries,
            retry_delay_sec=retry_delay_sec,
            delay_sec=delay_sec,
            name=name,
            description=description,
            labels=labels,
        )
        row["params"] = job_requests.params_text(info, self._params_model(info), params)
        if queue is not None and queue != info.queue:
            spec = self.registry.get(type)
            if spec is None or queue not in spec.queues:
                msg = f"job type {type!r} does not run from queue {queue!r}"
                raise errors.InvalidInput("queue", msg)
            row["queue"] = queue
        if self.origin is not None:
            row["origin"] = self.origin
        job, created = self.repo.insert(row, self.scope.user_id)
        if created:
            self._on_scheduled()
        else:
            job_requests.same_request(job, row)
        return job, created

    def schedule_many(
        self,
        type: str,
        params_list: Sequence[Any],
        *,
        timeout_sec: int | None = None,
        max_retries: int | None = None,
        retry_delay_sec: int | None = None,
        delay_sec: float = 0,
        description: str | None = None,
        labels: str | Sequence[str] | None = None,
    ) -> builtins.list[Job]:
        """Schedule one job per element of ``params_list``, with the same options, at once.

        All or nothing: every params is checked before any job is stored, and the jobs
        (with their ``scheduled`` events) are stored in one transaction. Idempotency keys
        and names are per job: schedule such jobs with ``schedule``.

        Returns:
            The jobs, in the order of ``params_list``.

        Raises:
            NotFound: the type is not registered.
            InvalidInput: a params fails the type's schema (the field is named with the
            params' index, ``params[3].size``), or an option is out of range.
        """
        info = self.job_type(text.check_text("type", type, 255))
        common = job_requests.options_row(
            info,
            self.scope.tenant_id,
            self.scope.user_id,
            timeout_sec=timeout_sec,
            max_retries=max_retries,
            retry_delay_sec=retry_delay_sec,
            delay_sec=delay_sec,
            description=description,
            labels=labels,
        )
        if self.origin is not None:
            common["origin"] = self.origin
        model = self._params_model(info)
        texts = []
        for i, params in enumerate(params_list):
            try:
                texts.append(job_requests.params_text(info, model, params))
            except errors.InvalidInput as exc:
                if not exc.field.startswith("params"):
                    raise
                field = f"params[{i}]{exc.field.removeprefix('params')}"
                raise errors.InvalidInput(field, str(exc).removeprefix(f"{exc.field}: ")) from None
        jobs = self.repo.insert_many(common, texts, self.scope.user_id)
        if jobs:
            self._on_scheduled()
        return jobs

    def _params_model(self, info: JobTypeInfo) -> Any:
        """The params model this process registered for the type; None if only another did."""
        spec = self.registry.get(info.type_id)
        return spec.params_model if spec else None

    # -- reading ------------------------------------------------------------------------

    def get(self, job_id: str) -> Job:
        """The tenant's job.

        Raises:
            NotFound: no such job in this tenant.
        """
        job = self.repo.get(self.scope.tenant_id, text.check_id("job_id", str(job_id)))
        if job is None:
            raise errors.NotFound("job", job_id)
        return job

    def resolve(self, job_id: str) -> str:
        """The full id of the tenant's job that ``job_id`` names: its id or a unique prefix.

        A prefix is hex digits (hyphens ignored), as ``headrace jobs ls`` shows them.

        Raises:
            InvalidInput: the text is not hex digits.
            NotFound: no job of the tenant has such an id.
            Conflict: the prefix starts several jobs' ids.
        """
        return resolve(self.repo, self.scope.tenant_id, job_id)

    def list(
        self,
        page: int = 1,
        limit: int = 10,
        status: str | Sequence[str] | None = None,
        order: str = "-scheduled_at",
        type: str | None = None,
    ) -> Page[Job]:
        """A page of the tenant's jobs, filtered by status, in the given order.

        Raises:
            InvalidInput: naming ``page``, ``limit``, ``status`` or ``order``.
        """
        catalog.check_page(page, limit)
        text.check_optional("type", type, 255)
        names = status.split(",") if isinstance(status, str) else list(status or [])
        statuses = [machine.parse(n) for n in names if n.strip()]
        descending = order.startswith("-")
        key = order.lstrip("+-").removesuffix("_ms")
        if key not in ORDERABLE:
            allowed = ", ".join(sorted(ORDERABLE))
            msg = "order"
            raise errors.InvalidInput(
                msg,
                f"unknown field {key!r}; expected one of {allowed} (prefix - for descending)",
            )
        return self.repo.list(
            self.scope.tenant_id,
            statuses=statuses,
            order=key,
            descending=descending,
            page=page,
            limit=limit,
            type_id=type,
        )

    def status_reason(self, job_id: str) -> str:
        """Why the job is in its status, in words (above all: why it is not starting).

        Raises:
            NotFound: no such job.
        """
        return reasons.status_reason(self.store, self.get(job_id))

    def events(self, job_id: str) -> builtins.list[JobEvent]:
        """The job's status changes, oldest first."""
        self.get(job_id)
        return self.repo.events(self.scope.tenant_id, job_id)

    def logs(self, job_id: str) -> builtins.list[JobLogLine]:
        """The job's stored log lines, oldest first."""
        self.get(job_id)
        return self.repo.logs(self.scope.tenant_id, job_id)

    # -- control ------------------------------------------------------------------------

    def cancel(self, job_id: str, reason: str = "canceled by user") -> Job:
        """Cancel a job: at once if no worker runs it, else ask its worker to stop.

        Raises:
            NotFound: no such job. IllegalTransition: the job has already ended.
        """
        job_id = text.check_id("job_id", str(job_id))
        reason = text.check_text("reason", reason, 10_000)

        def choose(job: Job) -> builtins.list[Status]:
            if job.status is S.CANCELING:
                return []
            if job.status is S.RUNNING:
                return [S.CANCELING]
            return [S.CANCELED]

        return self.repo.change(
            self.scope.tenant_id, job_id, choose, user_id=self.scope.user_id, reason=reason
        )

    def suspend(self, job_id: str, reason: str = "suspended by user") -> Job:
        """Suspend a waiting job at once, or ask a running (suspendable) job's worker to.

        A job a worker claimed but no slot of it has started (``locked``: held by prefetch,
        or its start not yet written) is handed back and suspended at once
        (``locked -> waiting -> suspended``), as cancel ends it at once: its worker finds
        it gone at its next control poll and never starts it. One its slot did take in
        the few milliseconds before its start write lands is stopped as a lost attempt
        and runs again when resumed (at least once, as after any lost lease).

        Raises:
            NotFound: no such job. IllegalTransition: the status does not allow it, or
            the job's type is not suspendable while it runs.
        """
        job_id = text.check_id("job_id", str(job_id))
        reason = text.check_text("reason", reason, 10_000)

        def choose(job: Job) -> builtins.list[Status]:
            if job.status is S.SUSPENDING:
                return []
            if job.status is S.RUNNING:
                info = self.catalog.get_type(job.type)
                if info is None or not info.suspendable:
                    raise errors.IllegalTransition(
                        job.job_id,
                        job.status,
                        S.SUSPENDING,
                        f"job type {job.type!r} is not suspendable",
                    )
                return [S.SUSPENDING]
            if job.status is S.LOCKED:
                return [S.WAITING, S.SUSPENDED]
            return [S.SUSPENDED]

        return self.repo.change(
            self.scope.tenant_id,
            job_id,
            choose,
            user_id=self.scope.user_id,
            reason=reason,
            values={"details": reason},
        )

    def resume(self, job_id: str, reason: str = "resumed by user") -> Job:
        """Put a suspended job back in its queue; its worker's ``on_resume`` runs first.

        Raises:
            NotFound: no such job. IllegalTransition: the job is not suspended.
        """
        job_id = text.check_id("job_id", str(job_id))
        reason = text.check_text("reason", reason, 10_000)
        # A job suspended before its eta keeps it; one suspended while running goes now.
        eta = max(self.get(job_id).eta_ms, now_ms())
        job = self.repo.change(
            self.scope.tenant_id,
            job_id,
            lambda job: [S.RESUMING, S.WAITING],
            user_id=self.scope.user_id,
            reason=reason,
            values={"resumed": True, "eta_ms": eta, "locked_by": None},
        )
        self._on_scheduled()
        return job

    def retry(self, job_id: str, reason: str = "retried by user") -> Job:
        """Start a new run of a failed or timed-out job (RQ's and Celery's requeue).

        The job goes ``failed -> waiting`` (one event) with ``run_count`` one higher and
        a fresh retry budget; see ``model.status.RERUNNABLE``.

        Raises:
            NotFound: no such job. IllegalTransition: the job did not fail or time out.
        """
        job = self.repo.rerun(
            self.scope.tenant_id, job_id, user_id=self.scope.user_id, reason=reason
        )
        self._on_scheduled()
        return job

    def purge(self, queue: str, reason: str = "queue purged by user") -> builtins.list[str]:
        """Cancel every waiting job of the tenant on ``queue``; running ones go on.

        Returns:
            The ids of the canceled jobs (each has its ``waiting -> canceled`` event).
        """
        return self.repo.cancel_waiting(
            self.scope.tenant_id, queue, user_id=self.scope.user_id, reason=reason
        )

    def delete(self, job_id: str, force: bool = False) -> Job:
        """Delete a job that no worker holds, with its events and logs.

        ``force`` first stops a held job's run at once (``stop(force=True)``).

        Raises:
            NotFound: no such job. IllegalTransition: a worker holds it (cancel it first).
        """
        job_id = text.check_id("job_id", str(job_id))
        if force and self.get(job_id).status in machine.HELD:
            self.stop(job_id, force=True)
        return self.repo.delete(self.scope.tenant_id, job_id, forbidden=machine.HELD)

    def wait(
        self, job_id: str, timeout: float | None = None, *, suspended_ends: bool = True
    ) -> Job:
        """Block until the job reaches a final status (or ``suspended``); return it.

        With ``suspended_ends=False`` a suspended job is waited for until it ends.

        Raises:
            NotFound: no such job. TimeoutException: still going after ``timeout`` s.
        """
        deadline = None if timeout is None else time.monotonic() + timeout
        pause = 0.005
        while True:
            job = self.get(job_id)
            if job.status in machine.FINAL or (suspended_ends and job.status is S.SUSPENDED):
                return job
            if deadline is not None and time.monotonic() >= deadline:
                msg = f"job {job_id} still {job.status} after {timeout} s"
                raise errors.TimeoutException(msg)
            left = 0.2 if deadline is None else max(0.0, deadline - time.monotonic())
            time.sleep(min(pause, left))
            pause = min(pause * 2, 0.2)


def resolve(repo: JobRepository, tenant_id: str, job_id: str) -> str:
    """The full id named by ``job_id`` (an id or a unique prefix) among the tenant's jobs.

    Raises:
        InvalidInput: the text is not hex digits (hyphens allowed).
        NotFound: no job of the tenant has such an id.
        Conflict: the prefix starts several jobs' ids (409: type more of it).
    """
    text = str(job_id).strip().lower()
    digits = text.replace("-", "")
    if not digits or any(c not in "0123456789abcdef" for c in digits):
        msg = f"a job id or its first hex digits, got {job_id!r}"
        raise errors.InvalidInput("job_id", msg)
    found = repo.ids_with_prefix(tenant_id, digits) if len(digits) <= 32 else []
    if not found:
        raise errors.NotFound("job", text)
    if len(found) > 1:
        msg = f"{text!r} starts the ids of several jobs ({found[0]}, {found[1]}, ...); type more"
        raise errors.Conflict(msg)
    return found[0]
