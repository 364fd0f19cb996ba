"""The embedded client: the service in this process, with in-process workers."""

from __future__ import annotations

import atexit
import os
import socket
import sys
import threading
import uuid
import weakref
from collections.abc import Callable, Sequence
from types import TracebackType
from typing import TYPE_CHECKING, Any

from headrace import config, defaults, errors, logconfig
from headrace.client import remote
from headrace.client import workers as client_workers
from headrace.engine import PipelineMetrics
from headrace.engine.executors import pool as engine_pool  # noqa: F401 - see _close_all
from headrace.model import labels as job_labels
from headrace.model import status as machine
from headrace.model.job import Job, JobGroupInfo
from headrace.pipeline import Pipeline
from headrace.scheduler.registry import DEFAULT, Registry, Target
from headrace.scheduler.worker import Worker
from headrace.service import pipeline_runner, ticker, tokens
from headrace.service.archives import ArchiveService
from headrace.service.catalog import JobGroupService, JobTypeService
from headrace.service.data import ListHandle, MapHandle, StreamHandle
from headrace.service.jobs import JobService, Scope
from headrace.service.pipelines import PipelineService
from headrace.service.projects import ProjectService
from headrace.service.schedules import ScheduleService
from headrace.service.workers import QueueInfo, WorkerService
from headrace.store.catalog import CatalogRepository
from headrace.store.database import Store
from headrace.store.jobs import JobRepository

if TYPE_CHECKING:
    from headrace.jet.service import JetService

_open: weakref.WeakSet[Runtime] = weakref.WeakSet()

#: This process's origin (``jobs.origin``): made on first use, anew in a forked child.
_origin: list[str] = []
os.register_at_fork(after_in_child=_origin.clear)


def process_origin() -> str:
    """The tag of the jobs this process schedules: ``host:pid:random`` (random: pids recur)."""
    if not _origin:
        _origin.append(f"{socket.gethostname()[:40]}:{os.getpid()}:{uuid.uuid4().hex[:8]}")
    return _origin[0]


class Runtime:
    """What every tenant view of one client shares: the store, the registry, the worker."""

    def __init__(
        self,
        settings: config.Settings,
        store: str | None,
        run_workers: bool,
        lease_sec: float,
        resume_jobs: bool = False,
        labels: str | Sequence[str] | None = None,
    ) -> None:
        self.settings = settings
        #: What the in-process worker offers: ``labels``, else config.yaml's ``labels``.
        self.labels = job_labels.parse("labels", settings.labels if labels is None else labels)
        # A SQLite file's WAL is checkpointed from a thread, not inside this process's
        # commits (about half of a one-by-one schedule's time went to them).
        self.store = Store(store or settings.store, background_checkpoints=True)
        self.registry = Registry(parent=DEFAULT)
        self.run_workers = run_workers
        #: Whether this process's workers also take jobs other processes scheduled (and
        #: left waiting, e.g. a streaming job a previous script left running).
        self.resume_jobs = resume_jobs
        self.lease_sec = lease_sec
        self.worker: Worker | None = None
        self._lock = threading.Lock()
        _open.add(self)

    def ensure_worker(self) -> None:
        """Start the in-process worker on first need (if this client runs workers)."""
        if not self.run_workers or self.worker is not None:
            if self.worker is not None:
                self.worker.wake()
            return
        with self._lock:
            if self.worker is None:
                origin = None if self.resume_jobs else process_origin()
                worker = Worker(
                    self.store,
                    self.registry,
                    self.settings.queues,
                    lease_sec=self.lease_sec,
                    origin=origin,
                    labels=self.labels,
                    prefetch=self.settings.prefetch,
                )
                ticker.attach(worker, origin)  # scheduled runs are this process's to run
                self.worker = worker.start()

    def close(self) -> None:
        """Stop the worker (handing back what it runs) and close the store."""
        with self._lock:
            worker, self.worker = self.worker, None
        if worker is not None:
            repo = JobRepository(self.store)
            held = repo.held_by(worker.worker_id) if worker.running() else []
            worker.stop()
            # What the stop handed back (a job being canceled ends instead).
            left = [j for h in held if (j := repo.get(h.tenant_id, h.job_id)) is not None]
            left = [j for j in left if j.status not in machine.FINAL]
            if left:
                sys.stderr.write(leftover_notice(left))
        self.store.close()
        _open.discard(self)


def leftover_notice(jobs: list[Job]) -> str:
    """What a script that ends with running jobs prints: which, and what becomes of them."""
    lines = [
        f"headrace: {len(jobs)} job(s) still running as this process ends; they go back "
        "to their queue and wait there (another script's Client() does not take them; "
        "Client(resume_jobs=True) or a `headrace worker` does):"
    ]
    lines += [f"  {job.name or job.type}  {job.job_id}  ({job.status})" for job in jobs]
    lines.append(
        "  see them with `headrace jobs ls`; cancel one with `headrace jobs cancel ID` or "
        "job.cancel() before the script ends"
    )
    return "\n".join(lines) + "\n"


# Registered after the engine pool's exit handler and multiprocessing's (``engine_pool``
# imported above), so it runs before them: a script's running jobs are stopped and handed
# back before their worker processes are stopped.
@atexit.register
def _close_all() -> None:
    # Flush what in-process workers still hold, so a script's last jobs are recorded.
    for runtime in list(_open):
        runtime.close()


class Client:
    """Headrace from Python: jobs, job types and groups, and the registry of job types.

    ``token`` is for the remote form only (a URL as ``store``); embedded clients ignore it.

    ``Client()`` is embedded: a SQLite file under ``./.headrace`` and workers in this
    process. Its workers take only the jobs this process scheduled: a streaming job a
    previous script left running stays in its queue (the script said so as it ended)
    until ``Client(resume_jobs=True)`` or a ``headrace worker`` takes it, or it is
    canceled. ``Client(store="postgresql://...")`` shares a PostgreSQL database with other
    clients and ``headrace worker`` processes.

    An embedded client starts the engine's worker processes in the background as it
    opens (``defaults.WARM_POOL_WORKERS``), so its first ``run`` above parallelism 1
    does not pay for their start; ``warm_pool=False`` (or ``HEADRACE_WARM_POOL=0``)
    leaves that to the first such run.

    ``labels`` (``"gpu,eu"`` or ``["gpu", "eu"]``; else config.yaml's ``labels``) are what
    its in-process workers offer, as ``headrace worker --labels`` does: they take the jobs
    requiring no label they lack.
    """

    def __new__(cls, store: str | None = None, *args: Any, **kwargs: Any) -> Any:
        """``Client("http://host:port", token=…)`` is the remote client, the rest embedded.

        ``Client()`` naming no store is remote too when ``$HEADRACE_SERVER`` names a server
        (what ``headrace submit FILE.py --server URL`` sets for the file it runs).
        """
        if store is None and "_runtime" not in kwargs:
            store = os.environ.get("HEADRACE_SERVER") or None
            if store is not None and not remote.is_remote(store):
                msg = f"must be an http:// or https:// URL, got {store!r}"
                raise errors.InvalidInput("HEADRACE_SERVER", msg)
        if store is not None and remote.is_remote(store):
            token = kwargs.get("token") or os.environ.get("HEADRACE_TOKEN")
            return remote.Client(store, token=token)
        return super().__new__(cls)

    def __init__(
        self,
        store: str | None = None,
        *,
        token: str | None = None,
        run_workers: bool = True,
        tenant_id: str = defaults.TENANT_ID,
        user_id: str = defaults.USER_ID,
        config_file: str | None = None,
        lease_sec: float = defaults.LEASE_SEC,
        resume_jobs: bool = False,
        warm_pool: bool = True,
        labels: str | Sequence[str] | None = None,
        _runtime: Runtime | None = None,
    ) -> None:
        if _runtime is None:
            if warm_pool and os.environ.get("HEADRACE_WARM_POOL") != "0":
                # Started first, so the pool's start overlaps opening the store: ready
                # for the first ``run`` above parallelism 1 (see ``warm_engine``).
                pipeline_runner.warm_engine()
            settings = config.load(config_file)
            logconfig.configure(settings.job_logger)
            # ``headrace submit --no-workers`` keeps a script's clients out of executing jobs.
            run_workers = run_workers and os.environ.get("HEADRACE_RUN_WORKERS") != "0"
            _runtime = Runtime(settings, store, run_workers, lease_sec, resume_jobs, labels)
        self._runtime = _runtime
        scope = Scope(_id("tenant_id", tenant_id), _id("user_id", user_id))
        self.scope = scope
        self.registry = _runtime.registry
        self.jobs = JobService(
            _runtime.store, _runtime.registry, scope, _runtime.ensure_worker, process_origin()
        )
        self.job_types = JobTypeService(_runtime.store)
        self.job_groups = JobGroupService(_runtime.store)
        self.pipelines = PipelineService(_runtime.store, self.jobs, scope)
        self.projects = ProjectService(_runtime.store, scope)
        self.archives = ArchiveService(_runtime.store, self.jobs, scope)
        self.schedules = ScheduleService(_runtime.store, self.jobs, scope, _runtime.ensure_worker)

    @property
    def store(self) -> Store:
        """The store this client uses."""
        return self._runtime.store

    def queues(self) -> list[QueueInfo]:
        """Every queue: capacity of live workers, this tenant's jobs on it by status."""
        return WorkerService(self.store).queues(self.scope.tenant_id, self._runtime.settings.queues)

    @property
    def workers(self) -> client_workers.Workers:
        """The worker processes: ``client.workers()`` lists them, ``.balance()`` balances."""
        return client_workers.Workers(self.jobs, self._runtime.lease_sec)

    def for_tenant(self, tenant_id: str, user_id: str = defaults.USER_ID) -> Client:
        """A client that sees and touches only ``tenant_id``'s jobs, sharing this one's store.

        A tenant (and user) is a UUID or a name, as ``headrace tokens create --tenant acme``
        takes it: ``for_tenant("acme")`` is the tenant of that command's tokens.

        Raises:
            InvalidInput: an empty or over-long name.
        """
        return Client(tenant_id=tenant_id, user_id=user_id, _runtime=self._runtime)

    def job_group(
        self, name: str, queue: str = defaults.DEFAULT_QUEUE, description: str = ""
    ) -> JobGroupInfo:
        """Declare (and store) a job group; its queue is the default for its types."""
        info = self.registry.group(name, queue, description)
        CatalogRepository(self.store).save(info)
        return info

    def job_type(self, type_id: str, **options: Any) -> Callable[[Target], Target]:
        """Register (and store) a job type: a function ``fn(ctx, params)`` or a ``JobWorker``.

        Options: ``group``, ``queue``, ``name``, ``description``, ``timeout_sec``,
        ``max_retries``, ``retry_delay_sec``, ``suspendable``, ``params`` (a pydantic
        model or a JSON schema).
        """
        decorate = self.registry.decorator(type_id, **options)

        def register(target: Target) -> Target:
            decorate(target)
            self.jobs.job_type(type_id)
            return target

        return register

    def get_list(self, name: str) -> ListHandle:
        """The named List (created on first write); survives restarts.

        Raises:
            InvalidInput: for an empty or over-long name.
        """
        return ListHandle(self.store, self.scope.tenant_id, name)

    def get_map(self, name: str) -> MapHandle:
        """The named Map (created on first write); survives restarts.

        Raises:
            InvalidInput: for an empty or over-long name.
        """
        return MapHandle(self.store, self.scope.tenant_id, name)

    def get_stream(self, name: str, partitions: int | None = None) -> StreamHandle:
        """The named Stream, created with ``partitions`` partitions (default 1) if missing.

        Raises:
            InvalidInput: ``partitions`` contradicts an existing Stream's count.
        """
        return StreamHandle(self.store, self.scope.tenant_id, name, partitions)

    def run(
        self, pipeline: Pipeline, local_parallelism: int = 1, executor: str | None = None
    ) -> PipelineMetrics:
        """Run a pipeline here, to completion, on this client's data; returns its metrics.

        ``executor="ray"`` runs its partitions as Ray actors (``headrace[ray]``; the
        cluster at ``RAY_ADDRESS``, else a local one); ``"processes"`` in worker processes.

        Raises:
            PipelineDefinitionError: the pipeline cannot run as defined.
            UserFunctionError: a stage's function raised (names the stage and the item).
        """
        return self.pipelines.run(pipeline, local_parallelism, executor=executor)

    def get_jet(self) -> JetService:
        """The Jet service (seed 001): submit pipelines as jobs and manage them."""
        from headrace.jet.service import JetService

        return JetService(self)

    def start_workers(self) -> None:
        """Start this process's worker now rather than at the first scheduled job."""
        self._runtime.run_workers = True
        self._runtime.ensure_worker()

    @property
    def worker(self) -> Worker | None:
        """The in-process worker, once started."""
        return self._runtime.worker

    def close(self) -> None:
        """Stop in-process workers and release the store."""
        self._runtime.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def _id(field: str, value: str) -> str:
    """A tenant's or user's UUID from a UUID or a name, as ``headrace tokens create`` maps it.

    Raises:
        InvalidInput: an empty or over-long name.
    """
    try:
        return tokens.identity(field.removesuffix("_id"), value)[0]
    except errors.InvalidInput as exc:
        raise errors.InvalidInput(field, str(exc).removeprefix(f"{exc.field}: ")) from None


__all__ = ["Client"]
