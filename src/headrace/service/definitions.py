"""Jobs as definitions with runs: create, update, start, stop, runs, duplicate, upgrade, find.

``JobDefinitions`` is mixed into ``client.jobs`` (the job service). A control-plane job is
a ``jobs`` row that may exist without running (status ``created``); each ``start`` opens a
new run whose runtime parameters are the job's, then the chosen parameter set's, then the
run's own (kept on the run, never written back). A pipeline job pins a published pipeline
commit; a task job runs a registered job type with its params, the parameters merged in.
"""

from __future__ import annotations

import builtins
import math
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from headrace import defaults, errors
from headrace.model import status as machine
from headrace.model.clock import now_ms
from headrace.model.controlplane import DEFAULT_PROJECT, Run
from headrace.model.job import Job, JobEvent, JobLogLine, JobTypeInfo
from headrace.model.jobconfig import JobConfig
from headrace.model.status import Status
from headrace.scheduler.registry import Registry
from headrace.service.pipeline_runner import PIPELINE_JOB_TYPE
from headrace.service.projects import check_name
from headrace.store import codec, tables
from headrace.store.commits import CommitRepository
from headrace.store.database import Store
from headrace.store.jobs import JobRepository
from headrace.store.projects import ProjectRepository
from headrace.store.runs import RunRepository

#: Most copies one ``duplicate`` makes.
MAX_COPIES = 10_000
#: Fields ``update`` accepts.
UPDATABLE = (
    "name",
    "description",
    "tags",
    "runtime_parameters",
    "parameter_sets",
    "config",
    "params",
    "queue",
    "require_error_ack",
)


def _tags(value: object) -> builtins.list[str]:
    if isinstance(value, str) or not isinstance(value, Sequence):
        raise errors.InvalidInput("tags", f"must be a list of strings, got {value!r}")
    for tag in value:
        if not isinstance(tag, str) or not 0 < len(tag) <= 255:
            raise errors.InvalidInput(
                "tags", f"a tag is 1..255 characters (a/b allowed), got {tag!r}"
            )
    return sorted(set(value))


def _dict(field: str, value: object) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, Mapping) or not all(isinstance(k, str) for k in value):
        raise errors.InvalidInput(field, f"must be a dict with string keys, got {value!r}")
    codec.dumps(dict(value), field)
    return dict(value)


def _sets(value: object) -> dict[str, dict[str, Any]]:
    sets = _dict("parameter_sets", value)
    return {
        check_name("parameter_sets", k): _dict(f"parameter_sets.{k}", v) for k, v in sets.items()
    }


def _config(value: object) -> JobConfig:
    if value is None:
        return JobConfig()
    if isinstance(value, JobConfig):
        return value
    if isinstance(value, Mapping):
        try:
            return JobConfig(**value)
        except errors.InvalidInput as exc:
            msg = f"config.{exc.field}"
            raise errors.InvalidInput(msg, str(exc).split(": ", 1)[-1]) from None
    raise errors.InvalidInput("config", f"expected a JobConfig, got {type(value).__name__}")


class JobDefinitions:
    """Control-plane jobs of one tenant (mixed into the job service)."""

    store: Store
    scope: Any
    registry: Registry
    repo: JobRepository
    _on_scheduled: Callable[[], None]
    get: Callable[[str], Job]
    cancel: Callable[..., Job]
    seed_for_next_run: Callable[[Job], tuple[bytes | None, dict[str, Any] | None]]
    job_type: Callable[[str], JobTypeInfo]

    @property
    def run_repo(self) -> RunRepository:
        """The tenant's definitions and runs in the store."""
        return RunRepository(self.store, self.scope.tenant_id)

    # -- defining -----------------------------------------------------------------------

    def create(
        self,
        name: str,
        *,
        pipeline: str | None = None,
        version: int | None = None,
        label: str | None = None,
        type: str | None = None,
        params: Any = None,
        description: str = "",
        tags: Sequence[str] = (),
        runtime_parameters: Mapping[str, Any] | None = None,
        parameter_sets: Mapping[str, Mapping[str, Any]] | None = None,
        config: JobConfig | Mapping[str, Any] | None = None,
        queue: str | None = None,
        project: str = DEFAULT_PROJECT,
        require_error_ack: bool = False,
    ) -> Job:
        """Define a job without starting it (status ``created``, run_count 0).

        Either ``pipeline`` (a published pipeline's name; ``version`` or ``label``, else
        its latest commit) or ``type`` (a registered job type, with ``params``).

        Raises:
            InvalidInput: naming the field. NotFound: the pipeline, commit, label, job
            type or project. JobAlreadyExists: an active job has the name.
        """
        check_name("name", name)
        if (pipeline is None) == (type is None):
            raise errors.InvalidInput("pipeline", "give either a pipeline or a job type")
        ProjectRepository(self.store, self.scope.tenant_id).check(project)
        at = now_ms()
        row: dict[str, Any] = {
            "tenant_id": self.scope.tenant_id,
            "user_id": self.scope.user_id,
            "idempotency_key": None,
            "name": name,
            "description": _text("description", description),
            "scheduled_at_ms": at,
            "updated_at_ms": at,
            "eta_ms": at,
            "progress": 0.0,
            "attempt": 0,
            "retries": 0,
            "resumed": False,
            "project": project,
            "tags": codec.dumps(_tags(tags), "tags"),
            "runtime_parameters": codec.dumps(
                _dict("runtime_parameters", runtime_parameters), "runtime_parameters"
            ),
            "parameter_sets": codec.dumps(_sets(parameter_sets), "parameter_sets"),
            "require_error_ack": bool(require_error_ack),
        }
        if pipeline is not None:
            commits = CommitRepository(self.store, self.scope.tenant_id)
            resolved = commits.resolve(pipeline, version, label)
            cfg = _config(config)
            timeout = None if cfg.timeout_ms is None else math.ceil(cfg.timeout_ms / 1000)
            info = self.job_type(PIPELINE_JOB_TYPE)
            definition = {"config": cfg.to_dict(), "local_parallelism": cfg.local_parallelism}
            row.update(
                type=PIPELINE_JOB_TYPE,
                pipeline_name=pipeline,
                pipeline_version=resolved,
                queue=_queue(queue, info.queue),
                timeout_sec=timeout or 0,
                max_retries=cfg.max_retries,
                retry_delay_sec=0,
            )
        else:
            assert type is not None
            info = self.job_type(type)
            definition = {"params": params}
            row.update(
                type=info.type_id,
                queue=_queue(queue, info.queue),
                timeout_sec=info.timeout_sec,
                max_retries=info.max_retries,
                retry_delay_sec=info.retry_delay_sec,
            )
        row["definition"] = codec.dumps(definition, "params")
        row["params"] = codec.dumps(None, "params")
        job = self.run_repo.create(row, self.scope.user_id)
        if type is not None:
            self._params_for(job)  # checks params against the type's schema now
        return job

    def update(self, job_id: str, **changes: Any) -> Job:
        """Change a job's definition; an active run keeps what it started with.

        Fields: ``name``, ``description``, ``tags``, ``runtime_parameters``,
        ``parameter_sets``, ``config`` (pipeline jobs), ``params`` (task jobs),
        ``queue``, ``require_error_ack``.

        Raises:
            InvalidInput: an unknown field or a bad value. NotFound: no such job.
        """
        job = self.get(job_id)
        definition = self._definition(job)
        values: dict[str, Any] = {}
        for field, value in changes.items():
            values.update(_changed(job, definition, field, value))
        values["definition"] = codec.dumps(definition, "params")
        updated = self.run_repo.update(job_id, values)
        if "params" in changes:
            self._params_for(updated)
        return updated

    def _definition(self, job: Job) -> dict[str, Any]:
        with self.store.read() as conn:
            text = conn.execute(
                tables.jobs.select()
                .with_only_columns(tables.jobs.c.definition)
                .where(tables.jobs.c.job_id == job.job_id)
            ).scalar()
        found = codec.loads(text)
        if isinstance(found, dict):
            return found
        # A job scheduled the seed 004 way: its params are its definition.
        if job.type == PIPELINE_JOB_TYPE and isinstance(job.params, dict):
            return {k: v for k, v in job.params.items() if k not in ("run_count", "parameters")}
        return {"params": job.params}

    def _params_for(
        self, job: Job, parameters: Mapping[str, Any] | None = None, run_count: int | None = None
    ) -> Any:
        """The params the job's next run gets (checked against the type)."""
        definition = self._definition(job)
        merged = dict(parameters if parameters is not None else job.runtime_parameters)
        if job.type == PIPELINE_JOB_TYPE:
            if job.pipeline_name is None:
                params = dict(definition)
            else:
                commits = CommitRepository(self.store, self.scope.tenant_id)
                params = {
                    **definition,
                    "pipeline": commits.blob(job.pipeline_name, job.pipeline_version or 1),
                }
            params["run_count"] = run_count or job.run_count + 1
            params["parameters"] = merged
            return params
        from headrace.scheduler import runner

        base = definition.get("params")
        given: Any = {**base, **merged} if isinstance(base, dict) and merged else base
        if given is None and merged:
            given = merged
        spec = self.registry.get(job.type)
        info = self.job_type(job.type)
        checked = runner.parse_params(
            spec.params_model if spec else None, info.params_schema, given
        )
        return checked.model_dump(mode="json") if hasattr(checked, "model_dump") else checked

    # -- running ------------------------------------------------------------------------

    def start(
        self,
        job_id: str,
        *,
        name: str | None = None,
        description: str | None = None,
        runtime_parameters: Mapping[str, Any] | None = None,
        parameter_set: str | None = None,
    ) -> Job:
        """Start a new run: ``run_count + 1``, queued (``waiting``).

        Its parameters: the job's, then ``parameter_set``'s, then ``runtime_parameters``.

        Raises:
            NotFound: no such job, or its pinned commit is gone.
            InvalidInput: an unknown parameter set, bad parameters.
            IllegalTransition: a run is active (the message names it).
        """
        job = self.get(job_id)
        merged = dict(job.runtime_parameters)
        if parameter_set is not None:
            if parameter_set not in job.parameter_sets:
                known = ", ".join(sorted(job.parameter_sets)) or "none"
                msg = f"unknown parameter set {parameter_set!r}; the job has: {known}"
                raise errors.InvalidInput("parameter_set", msg)
            merged.update(job.parameter_sets[parameter_set])
        merged.update(_dict("runtime_parameters", runtime_parameters))
        if name is not None:
            check_name("name", name)
        description = None if description is None else _text("description", description)
        seed, definition = self.seed_for_next_run(job)
        started = self.run_repo.start(
            job_id,
            self.scope.user_id,
            lambda current: self._params_for(current, merged, current.run_count + 1),
            name=name,
            description=description,
            parameters=merged,
            seed=seed,
            definition=None if definition is None else codec.dumps(definition, "params"),
            origin=getattr(self, "origin", None),
        )
        self._on_scheduled()
        return started

    def stop(self, job_id: str, force: bool = False) -> Job:
        """End the current run (gracefully, or at once with ``force``); offsets are kept.

        Raises:
            NotFound: no such job. IllegalTransition: no run is active.
        """
        job = self.cancel(job_id, reason="stopped by user")
        if force and job.status is Status.CANCELING:
            job = self.repo.change(
                self.scope.tenant_id,
                job_id,
                lambda j: [Status.CANCELED] if j.status is Status.CANCELING else [],
                user_id=self.scope.user_id,
                reason="stopped by user (forced)",
            )
        return job

    def acknowledge_error(self, job_id: str) -> Job:
        """Acknowledge a failed run so a job requiring it may start again. Raises: NotFound."""
        self.get(job_id)
        return self.run_repo.update(job_id, {"error_acknowledged": True})

    # -- runs ---------------------------------------------------------------------------

    def runs(
        self,
        job_id: str,
        *,
        status: str | Sequence[str] | None = None,
        since_ms: int | None = None,
        until_ms: int | None = None,
        page: int = 1,
        limit: int = 50,
    ) -> builtins.list[Run]:
        """The job's runs, newest first, filtered by status and start time, paged.

        Raises:
            NotFound: no such job. InvalidInput: naming ``status``, ``page`` or ``limit``.
        """
        from headrace.service import catalog

        catalog.check_page(page, limit)
        names = status.split(",") if isinstance(status, str) else list(status or [])
        wanted = {machine.parse(n) for n in names if n.strip()}
        runs = [
            r
            for r in self.run_repo.runs(self.get(job_id))
            if (not wanted or r.status in wanted)
            and (since_ms is None or r.started_at_ms >= since_ms)
            and (until_ms is None or r.started_at_ms < until_ms)
        ]
        return runs[(page - 1) * limit : page * limit]

    def run(self, job_id: str, run_count: int) -> Run:
        """One run of the job. Raises: NotFound (naming the run)."""
        for found in self.run_repo.runs(self.get(job_id)):
            if found.run_count == run_count:
                return found
        raise errors.NotFound("run", f"{job_id}#{run_count}")

    def run_events(self, job_id: str, run_count: int) -> builtins.list[JobEvent]:
        """One run's status changes, oldest first. Raises: NotFound."""
        job = self.get(job_id)
        after, upto, _, _ = self.run_repo.bounds(job, run_count)
        return self.run_repo.events(job_id, after, upto)

    def run_logs(self, job_id: str, run_count: int) -> builtins.list[JobLogLine]:
        """One run's log lines, oldest first. Raises: NotFound."""
        job = self.get(job_id)
        _, _, after, upto = self.run_repo.bounds(job, run_count)
        return self.run_repo.logs(job_id, after, upto)

    def run_metrics(self, job_id: str, run_count: int) -> dict[str, Any]:
        """One run's metrics (a pipeline run's counts per stage; kept after it ends).

        ``input_count`` (records read by sources), ``output_count`` (records written by
        sinks), ``error_count`` and ``stages``. Raises: NotFound.
        """
        return summarize(self.run(job_id, run_count).metrics)

    def summary(self, job_id: str) -> dict[str, Any]:
        """The realtime summary of the current run (its live metrics). Raises: NotFound."""
        job = self.get(job_id)
        if job.run_count < 1:
            return {**summarize(None), "run_count": 0, "status": str(job.status)}
        current = self.run(job_id, job.run_count)
        return {**summarize(current.metrics), "run_count": job.run_count, "status": str(job.status)}

    # -- many jobs ----------------------------------------------------------------------

    def duplicate(
        self, job_id: str, count: int = 1, *, name: str | None = None
    ) -> builtins.list[Job]:
        """``count`` copies of the job's definition, named ``"<name> copy1"``, … (not started).

        Raises:
            InvalidInput: naming ``count`` (1..10,000). NotFound: no such job.
        """
        if not isinstance(count, int) or isinstance(count, bool) or not 1 <= count <= MAX_COPIES:
            raise errors.InvalidInput("count", f"must be an int in 1..{MAX_COPIES}, got {count!r}")
        job = self.get(job_id)
        definition = self._definition(job)
        base = name if name is not None else f"{job.name or job.job_id} copy"
        copies = []
        for i in range(1, count + 1):
            copy_name = base if name is not None and count == 1 else f"{base}{i}"
            common: dict[str, Any] = {
                "description": job.description or "",
                "tags": job.tags,
                "runtime_parameters": job.runtime_parameters,
                "parameter_sets": job.parameter_sets,
                "queue": job.queue,
                "project": job.project,
                "require_error_ack": job.require_error_ack,
            }
            if job.pipeline_name is not None:
                copies.append(
                    self.create(
                        copy_name,
                        pipeline=job.pipeline_name,
                        version=job.pipeline_version,
                        config=JobConfig.from_dict(definition.get("config") or {}),
                        **common,
                    )
                )
            else:
                copies.append(
                    self.create(copy_name, type=job.type, params=definition.get("params"), **common)
                )
        return copies

    def upgrade(self, job_ids: str | Sequence[str]) -> builtins.list[Job]:
        """Pin each job to its pipeline's latest commit (from its next run).

        Raises:
            NotFound: a job. InvalidInput: a job that runs no published pipeline.
        """
        ids = [job_ids] if isinstance(job_ids, str) else list(job_ids)
        jobs = [self.get(j) for j in ids]
        for job in jobs:
            if job.pipeline_name is None:
                raise errors.InvalidInput("job_ids", f"job {job.job_id} runs no published pipeline")
        commits = CommitRepository(self.store, self.scope.tenant_id)
        return [
            self.run_repo.update(
                job.job_id, {"pipeline_version": commits.resolve(job.pipeline_name or "")}
            )
            for job in jobs
        ]

    def find(
        self,
        *,
        name: str | None = None,
        tag: str | None = None,
        status: str | Sequence[str] | None = None,
        pipeline: str | None = None,
        label: str | None = None,
        project: str | None = None,
        limit: int = defaults.MAX_PAGE_LIMIT,
    ) -> builtins.list[Job]:
        """The tenant's jobs matching every filter given, newest first.

        ``tag`` matches the tag and its children (``a`` matches ``a/b``); ``label``
        matches jobs pinning the commit the label names now in their pipeline.

        Raises:
            InvalidInput: naming ``status``. NotFound: ``pipeline``'s label.
        """
        J = tables.jobs
        where: list[Any] = []
        if name is not None:
            where.append(J.c.name == name)
        if pipeline is not None:
            where.append(J.c.pipeline_name == pipeline)
        if project is not None:
            where.append(J.c.project == project)
        names = status.split(",") if isinstance(status, str) else list(status or [])
        statuses = [str(machine.parse(n)) for n in names if n.strip()]
        if statuses:
            where.append(J.c.status.in_(statuses))
        commits = CommitRepository(self.store, self.scope.tenant_id)
        if label is not None and pipeline is not None:
            where.append(J.c.pipeline_version == commits.resolve(pipeline, None, label))
        jobs = self.run_repo.jobs_where(where, limit)
        if label is not None and pipeline is None:
            jobs = [j for j in jobs if _labelled(commits, j, label)]
        if tag is not None:
            jobs = [j for j in jobs if any(t == tag or t.startswith(f"{tag}/") for t in j.tags)]
        return jobs


def _labelled(commits: CommitRepository, job: Job, label: str) -> bool:
    """Whether the job pins the commit ``label`` names in its pipeline."""
    if job.pipeline_name is None:
        return False
    try:
        return commits.resolve(job.pipeline_name, None, label) == job.pipeline_version
    except errors.NotFound:
        return False


def summarize(metrics: Mapping[str, Any] | None) -> dict[str, Any]:
    """Run metrics in the control plane's terms: inputs, outputs, errors, batches, stages."""
    stages: dict[str, Any] = dict((metrics or {}).get("stages") or {})
    sources = [s for s in stages.values() if s.get("kind") == "source"]
    sinks = [s for s in stages.values() if s.get("kind") == "sink"]
    return {
        "input_count": sum(int(s.get("emitted", 0)) for s in sources),
        "output_count": sum(int(s.get("received", 0)) for s in sinks),
        "error_count": int((metrics or {}).get("error_count", 0)),
        "batch_count": sum(int(s.get("batches", 0)) for s in sources),
        "received_count": int((metrics or {}).get("received_count", 0)),
        "emitted_count": int((metrics or {}).get("emitted_count", 0)),
        "stages": stages,
    }


def _changed(job: Job, definition: dict[str, Any], field: str, value: Any) -> dict[str, Any]:
    """The column values one ``update`` field sets (``definition`` is changed in place)."""
    if field not in UPDATABLE:
        msg = f"not updatable; updatable: {', '.join(UPDATABLE)}"
        raise errors.InvalidInput(field, msg)
    if field in ("name", "queue"):
        return {field: check_name(field, value)}
    if field == "description":
        return {field: _text(field, value)}
    if field == "tags":
        return {field: codec.dumps(_tags(value), field)}
    if field == "runtime_parameters":
        return {field: codec.dumps(_dict(field, value), field)}
    if field == "parameter_sets":
        return {field: codec.dumps(_sets(value), field)}
    if field == "require_error_ack":
        return {field: bool(value)}
    if field == "config":
        if job.type != PIPELINE_JOB_TYPE:
            raise errors.InvalidInput("config", "only a pipeline job has a JobConfig")
        cfg = _config(value)
        definition.update(config=cfg.to_dict(), local_parallelism=cfg.local_parallelism)
        return {}
    if job.type == PIPELINE_JOB_TYPE:
        raise errors.InvalidInput("params", "a pipeline job takes runtime parameters, not params")
    definition["params"] = value
    return {}


def _text(field: str, value: object) -> str:
    if not isinstance(value, str):
        raise errors.InvalidInput(field, f"must be a string, got {value!r}")
    return value


def _queue(value: object, default: str) -> str:
    if value is None:
        return default
    return check_name("queue", value)
