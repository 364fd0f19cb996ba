"""Jobs as definitions with runs: create, update, start, stop, duplicate, upgrade, find.

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
from headrace.model.controlplane import DEFAULT_PROJECT
from headrace.model.job import Job, JobTypeInfo
from headrace.model.jobconfig import JobConfig
from headrace.model.status import Status
from headrace.scheduler.registry import Registry
from headrace.service import definition_fields as fields
from headrace.service.pipeline_job import PIPELINE_JOB_TYPE
from headrace.service.projects import check_name
from headrace.store import codec, tables
from headrace.store.commits import CommitRepository
from headrace.store.database import Store
from headrace.store.jobs import JobRepository
from headrace.store.projects import ProjectRepository
from headrace.store.runs import RunRepository


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
        its latest commit) or ``type`` (a registered job type, with ``params``). Jobs
        may share a name; only a started one holds it (see ``start``).

        Raises:
            InvalidInput: naming the field. NotFound: the pipeline, commit, label, job
            type or project.
        """
        row = self._new_row(
            name,
            pipeline=pipeline,
            version=version,
            label=label,
            type=type,
            params=params,
            description=description,
            tags=tags,
            runtime_parameters=runtime_parameters,
            parameter_sets=parameter_sets,
            config=config,
            queue=queue,
            project=project,
            require_error_ack=require_error_ack,
        )
        return self.run_repo.create(row, self.scope.user_id)

    def _new_row(
        self,
        name: str,
        *,
        pipeline: str | None,
        version: int | None,
        label: str | None,
        type: str | None,
        params: Any,
        description: str,
        tags: Sequence[str],
        runtime_parameters: Mapping[str, Any] | None,
        parameter_sets: Mapping[str, Mapping[str, Any]] | None,
        config: JobConfig | Mapping[str, Any] | None,
        queue: str | None,
        project: str,
        require_error_ack: bool,
    ) -> dict[str, Any]:
        """The ``jobs`` row of a new definition, every field checked (nothing written)."""
        check_name("name", name)
        if (pipeline is None) == (type is None):
            raise errors.InvalidInput("pipeline", "give either a pipeline or a job type")
        ProjectRepository(self.store, self.scope.tenant_id).check(project)
        at = now_ms()
        parameters = fields.check_dict("runtime_parameters", runtime_parameters)
        row: dict[str, Any] = {
            "tenant_id": self.scope.tenant_id,
            "user_id": self.scope.user_id,
            "idempotency_key": None,
            "name": name,
            "description": fields.check_text("description", description),
            "scheduled_at_ms": at,
            "updated_at_ms": at,
            "eta_ms": at,
            "progress": 0.0,
            "attempt": 0,
            "retries": 0,
            "resumed": False,
            "project": project,
            "tags": codec.dumps(fields.check_tags(tags), "tags"),
            "runtime_parameters": codec.dumps(parameters, "runtime_parameters"),
            "parameter_sets": codec.dumps(fields.check_sets(parameter_sets), "parameter_sets"),
            "require_error_ack": bool(require_error_ack),
        }
        if pipeline is not None:
            commits = CommitRepository(self.store, self.scope.tenant_id)
            resolved = commits.resolve(pipeline, version, label)
            cfg = fields.check_config(config)
            timeout = None if cfg.timeout_ms is None else math.ceil(cfg.timeout_ms / 1000)
            info = self.job_type(PIPELINE_JOB_TYPE)
            definition = {"config": cfg.to_dict(), "local_parallelism": cfg.local_parallelism}
            row.update(
                type=PIPELINE_JOB_TYPE,
                pipeline_name=pipeline,
                pipeline_version=resolved,
                queue=fields.check_queue(queue, info.queue),
                timeout_sec=timeout or 0,
                max_retries=cfg.max_retries,
                retry_delay_sec=0,
            )
        else:
            assert type is not None
            info = self.job_type(type)
            definition = {"params": params}
            self._task_params(info.type_id, definition, parameters)  # refused before a write
            row.update(
                type=info.type_id,
                queue=fields.check_queue(queue, info.queue),
                timeout_sec=info.timeout_sec,
                max_retries=info.max_retries,
                retry_delay_sec=info.retry_delay_sec,
            )
        row["definition"] = codec.dumps(definition, "params")
        row["params"] = codec.dumps(None, "params")
        return row

    def update(self, job_id: str, **changes: Any) -> Job:
        """Change a job's definition; an active run keeps what it started with.

        Fields: ``name``, ``description``, ``tags``, ``runtime_parameters``,
        ``parameter_sets``, ``config`` (pipeline jobs), ``params`` (task jobs),
        ``queue``, ``require_error_ack``; and the commit a pipeline job pins:
        ``version`` or ``label`` (of its pipeline, or of ``pipeline``; ``pipeline``
        alone: that pipeline's latest), older commits included.

        Raises:
            InvalidInput: an unknown field or a bad value. NotFound: no such job, or the
            pipeline, commit or label. JobAlreadyExists: a running job's new name is
            held by another active job.
        """
        job = self.get(job_id)
        definition = self._definition(job)
        values: dict[str, Any] = {}
        target = {k: changes.pop(k) for k in fields.COMMIT_FIELDS if k in changes}
        if target:
            values.update(self._pinned(job, **target))
        for field, value in changes.items():
            values.update(fields.changed_columns(job, definition, field, value))
        if "params" in changes:
            self._task_params(job.type, definition, job.runtime_parameters)
        values["definition"] = codec.dumps(definition, "params")
        return self.run_repo.update(job_id, values)

    def _pinned(
        self,
        job: Job,
        pipeline: str | None = None,
        version: int | None = None,
        label: str | None = None,
    ) -> dict[str, Any]:
        """The columns that pin ``job`` to another commit (any version, older included)."""
        if job.type != PIPELINE_JOB_TYPE or job.pipeline_name is None:
            msg = f"job {job.job_id} runs no published pipeline"
            raise errors.InvalidInput("pipeline" if pipeline is not None else "version", msg)
        if version is not None and label is not None:
            raise errors.InvalidInput("label", "give a commit version or a label, not both")
        if version is not None and (
            not isinstance(version, int) or isinstance(version, bool) or version < 1
        ):
            raise errors.InvalidInput("version", f"must be a commit version >= 1, got {version!r}")
        name = job.pipeline_name if pipeline is None else check_name("pipeline", pipeline)
        if pipeline is not None and version is None and label is None:
            resolved = CommitRepository(self.store, self.scope.tenant_id).resolve(name)
        elif version is None and label is None:
            raise errors.InvalidInput("version", "give the commit: a version or a label")
        else:
            resolved = CommitRepository(self.store, self.scope.tenant_id).resolve(
                name, version, label
            )
        return {"pipeline_name": name, "pipeline_version": resolved}

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
        return self._task_params(job.type, definition, merged)

    def _task_params(
        self, type_id: str, definition: Mapping[str, Any], merged: Mapping[str, Any]
    ) -> Any:
        """A task job's params with the run's parameters merged in, checked against its type.

        Raises:
            InvalidInput: the params fail the type's schema.
        """
        from headrace.scheduler import runner

        base = definition.get("params")
        given: Any = {**base, **merged} if isinstance(base, dict) and merged else base
        if given is None and merged:
            given = dict(merged)
        spec = self.registry.get(type_id)
        info = self.job_type(type_id)
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
        merged.update(fields.check_dict("runtime_parameters", runtime_parameters))
        if name is not None:
            check_name("name", name)
        description = None if description is None else fields.check_text("description", description)
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

    # -- many jobs ----------------------------------------------------------------------

    def duplicate(
        self, job_id: str, count: int = 1, *, name: str | None = None
    ) -> builtins.list[Job]:
        """``count`` copies of the job's definition, named ``"<name> copy1"``, … (not started).

        One transaction: every copy is made, or none. ``name`` names a single copy
        (``"<name>1"``, ``"<name>2"``, … for more).

        Raises:
            InvalidInput: naming ``count`` (1..10,000) or ``name``. NotFound: no such job.
        """
        fields.check_copies(count)
        job = self.get(job_id)
        base = check_name("name", name) if name is not None else f"{job.name or job.job_id} copy"
        names = (
            [base] if name is not None and count == 1 else [f"{base}{i + 1}" for i in range(count)]
        )
        for copy_name in names:
            check_name("name", copy_name)
        definition = self._definition(job)
        common: dict[str, Any] = {
            "description": job.description or "",
            "tags": job.tags,
            "runtime_parameters": job.runtime_parameters,
            "parameter_sets": job.parameter_sets,
            "queue": job.queue,
            "project": job.project,
            "require_error_ack": job.require_error_ack,
            "label": None,
        }
        if job.pipeline_name is not None:
            row = self._new_row(
                names[0],
                pipeline=job.pipeline_name,
                version=job.pipeline_version,
                config=JobConfig.from_dict(definition.get("config") or {}),
                type=None,
                params=None,
                **common,
            )
        else:
            row = self._new_row(
                names[0],
                type=job.type,
                params=definition.get("params"),
                pipeline=None,
                version=None,
                config=None,
                **common,
            )
        return self.run_repo.create_many([{**row, "name": n} for n in names], self.scope.user_id)

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
