"""A pipeline job's source offsets: read them (per job, per run), reset, upload.

``JobOffsets`` is mixed into ``client.jobs``. Offsets are the sources' positions in a run's
last snapshot (jobs that take snapshots: a processing guarantee other than NONE). A new
run continues from the previous run's offsets, unless they were reset (the next run starts
every source from its beginning) or uploaded (the next run starts there).
"""

from __future__ import annotations

import builtins
import json
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from headrace import errors
from headrace.connectors.base import ListLike, MapLike, StreamLike
from headrace.engine import offsets as engine_offsets
from headrace.engine.plan import Plan, build_plan
from headrace.model import status as machine
from headrace.model.job import Job
from headrace.model.jobconfig import JobConfig
from headrace.model.status import Status
from headrace.service.data import StoreProvider
from headrace.service.pipeline_runner import decode
from headrace.store import codec
from headrace.store.commits import CommitRepository
from headrace.store.database import Store
from headrace.store.runs import RunRepository
from headrace.store.snapshots import SnapshotRepository

VERSION = engine_offsets.OFFSETS_VERSION


class JobOffsets:
    """Offsets of one tenant's pipeline jobs (mixed into the job service)."""

    store: Store
    scope: Any
    get: Callable[[str], Job]
    _definition: Callable[[Job], dict[str, Any]]

    def _snapshots(self) -> SnapshotRepository:
        return SnapshotRepository(self.store, self.scope.tenant_id)

    def _last_blob(self, job: Job, run_count: int | None = None) -> bytes | None:
        runs = [run_count] if run_count is not None else range(job.run_count, 0, -1)
        for n in runs:
            found = self._snapshots().latest(job.job_id, n)
            if found is not None:
                return found
        return None

    def offsets(self, job_id: str, run_count: int | None = None) -> dict[str, Any]:
        """The committed offsets: of the newest run that has any, or of ``run_count``.

        Returns ``{"version": 2, "offsets": {"<source>/<split>": "<offset>" | None}}``
        (empty when no snapshot was committed).

        Raises:
            NotFound: no such job or run.
        """
        job = self.get(job_id)
        if run_count is not None and not 1 <= run_count <= job.run_count:
            raise errors.NotFound("run", f"{job_id}#{run_count}")
        blob = self._last_blob(job, run_count)
        return {"version": VERSION, "offsets": {} if blob is None else engine_offsets.read(blob)}

    def reset_offsets(self, job_id: str) -> Job:
        """Make the next run start every source from its beginning.

        Raises:
            NotFound: no such job. IllegalTransition: a run is active.
        """
        job = self._idle(job_id, "reset offsets")
        return self._pending(job, {"reset": True})

    def upload_offsets(self, job_id: str, offsets: Mapping[str, Any] | str | Path) -> Job:
        """Make the next run start from these offsets (a dict, or a JSON file's path).

        The entities are checked against the pipeline's sources: the splits its last
        snapshot holds, or, for a job that has none (never ran) or whose snapshot another
        commit's stages took, the splits its sources list now.

        Raises:
            InvalidInput: the form is wrong, or an entity no source has (named); nothing
            changes. NotFound: no such job. IllegalTransition: a run is active.
        """
        job = self._idle(job_id, "upload offsets")
        document = _document(offsets)
        known = self._entities(job)
        for entity in document:
            if entity not in known:
                have = ", ".join(sorted(known)) or "none"
                msg = f"no source of the pipeline has entity {entity!r}; it has: {have}"
                field = f"offsets.{entity}"
                raise errors.InvalidInput(field, msg)
        return self._pending(job, {"upload": document})

    def offset_entities(self, job_id: str) -> builtins.list[str]:
        """The entities (``"<source>/<split>"``) the job's offsets may name now.

        Those of its last snapshot, or, for a job that has none (never ran) or whose
        snapshot another commit's stages took, the splits its sources list now.

        Empty for a job that runs no published pipeline.

        Raises:
            NotFound: no such job. InvalidInput: a source's Stream does not exist yet.
        """
        return self._entities(self.get(job_id))

    def _entities(self, job: Job) -> builtins.list[str]:
        blob = self._last_blob(job) if job.run_count >= 1 else None
        if blob is not None and self._misfit(job, blob) is None:
            return list(engine_offsets.read(blob))
        if job.pipeline_name is None:
            return []  # not a published pipeline's job: no sources to name
        plan, splits = self._source_splits(job)
        return engine_offsets.entities(plan, splits)

    def _source_splits(
        self, job: Job, *, list_splits: bool = True
    ) -> tuple[Plan, dict[int, list[Any]]]:
        """The plan of the job's pinned pipeline and its sources' splits now (if asked)."""
        if job.pipeline_name is None:
            msg = f"job {job.job_id} runs no published pipeline, so it has no sources"
            raise errors.InvalidInput("offsets", msg)
        blob = CommitRepository(self.store, self.scope.tenant_id).blob(
            job.pipeline_name, job.pipeline_version or 1
        )
        pipeline = decode(blob)
        if not list_splits:
            return build_plan(pipeline), {}
        provider = _CreatingNothing(StoreProvider(self.store, self.scope.tenant_id))
        return engine_offsets.source_splits(pipeline, provider)

    def _idle(self, job_id: str, what: str) -> Job:
        job = self.get(job_id)
        if job.status not in machine.STARTABLE:
            raise errors.IllegalTransition(job_id, job.status, what, "stop the job first")
        return job

    def _pending(self, job: Job, pending: dict[str, Any]) -> Job:
        definition = self._definition(job)
        definition["offsets"] = pending
        return RunRepository(self.store, self.scope.tenant_id).update(
            job.job_id, {"definition": codec.dumps(definition, "offsets")}
        )

    def seed_for_next_run(self, job: Job) -> tuple[bytes | None, dict[str, Any] | None]:
        """The snapshot the next run starts from, and the job's definition to store.

        The definition comes back without its pending reset or upload (None: nothing
        was pending, the definition stays).

        Raises:
            IllegalTransition: the last snapshot cannot seed the run (the job now pins a
                commit with other stages, or another parallelism) and nothing was reset
                or uploaded.
        """
        definition = self._definition(job)
        pending = definition.pop("offsets", None)
        blob = self._last_blob(job) if job.run_count >= 1 else None
        if pending is not None and pending.get("reset"):
            return None, definition
        misfit = None if blob is None else self._misfit(job, blob)
        if blob is None or misfit is not None:
            if pending is not None and pending.get("upload"):
                return self._first_seed(job, definition, pending["upload"]), definition
            if misfit is not None:
                msg = f"{misfit}: reset or upload its offsets first"
                raise errors.IllegalTransition(job.job_id, job.status, Status.WAITING, msg)
            return None, definition if pending is not None else None
        overrides = pending.get("upload") if pending is not None else None
        return engine_offsets.seed(blob, overrides), definition if pending is not None else None

    def _misfit(self, job: Job, blob: bytes) -> str | None:
        """Why the job's pinned commit cannot continue from ``blob`` (None: it can)."""
        if job.pipeline_name is None:
            return None
        plan, _ = self._source_splits(job, list_splits=False)
        config = JobConfig.from_dict(self._definition(job).get("config") or {})
        return engine_offsets.misfit(blob, plan, config.local_parallelism)

    def _first_seed(
        self, job: Job, definition: Mapping[str, Any], overrides: Mapping[str, str | None]
    ) -> bytes:
        """The snapshot a job's first run starts from: the uploaded offsets.

        Raises:
            InvalidInput: a source no longer lists the split an entity names.
        """
        plan, splits = self._source_splits(job)
        config = JobConfig.from_dict(definition.get("config") or {})
        try:
            return engine_offsets.initial(plan, splits, config.local_parallelism, overrides)
        except KeyError as exc:
            msg = f"no source of the pipeline has entity {exc.args[0]!r} any more"
            field = f"offsets.{exc.args[0]}"
            raise errors.InvalidInput(field, msg) from None


class _CreatingNothing:
    """A provider to list splits with that creates no Stream (a missing one is refused).

    A run creates a missing Stream with one partition; checking an upload must not, or
    the Stream a user creates later with more partitions would be refused.
    """

    def __init__(self, inner: StoreProvider) -> None:
        self._inner = inner

    def has_list(self, name: str) -> bool:
        """Whether the List exists."""
        return self._inner.has_list(name)

    def has_map(self, name: str) -> bool:
        """Whether the Map exists."""
        return self._inner.has_map(name)

    def has_stream(self, name: str) -> bool:
        """Whether the Stream exists."""
        return self._inner.has_stream(name)

    def get_list(self, name: str) -> ListLike:
        """The List (read only here)."""
        return self._inner.get_list(name)

    def get_map(self, name: str) -> MapLike:
        """The Map (read only here)."""
        return self._inner.get_map(name)

    def get_stream(self, name: str) -> StreamLike:
        """The Stream, which must exist.

        Raises:
            InvalidInput: it does not exist yet, so it has no partition to start from.
        """
        if not self._inner.has_stream(name):
            msg = f"the pipeline's stream {name!r} does not exist yet: no partition to start at"
            raise errors.InvalidInput("offsets", msg)
        return self._inner.get_stream(name)


def _document(offsets: Mapping[str, Any] | str | Path) -> dict[str, str | None]:
    if isinstance(offsets, str | Path):
        try:
            offsets = json.loads(Path(offsets).read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise errors.InvalidInput("offsets", f"cannot read an offsets file: {exc}") from None
    if not isinstance(offsets, Mapping) or offsets.get("version") != VERSION:
        msg = f'expected {{"version": {VERSION}, "offsets": {{"<entity>": "<offset>" | null}}}}'
        raise errors.InvalidInput("offsets", msg)
    found = offsets.get("offsets")
    if not isinstance(found, Mapping):
        raise errors.InvalidInput("offsets.offsets", "must be a dict of entity to offset")
    document: dict[str, str | None] = {}
    for entity, value in found.items():
        if not isinstance(entity, str) or not (value is None or isinstance(value, str | int)):
            msg_0 = f"offsets.{entity}"
            raise errors.InvalidInput(msg_0, "an offset is a string or null")
        if value is not None and not str(value).lstrip("-").isdigit():
            msg_0 = f"offsets.{entity}"
            raise errors.InvalidInput(msg_0, f"not an offset: {value!r}")
        document[entity] = None if value is None else str(value)
    return document
