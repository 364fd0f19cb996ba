"""Job types registered in Python: their callbacks, defaults and params schema."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from headrace import defaults, errors
from headrace.model import labels as job_labels
from headrace.model.job import JobGroupInfo, JobTypeInfo
from headrace.store.catalog import CatalogRepository

if TYPE_CHECKING:
    # Only a job type with a params model needs pydantic, and its module imported it: a
    # worker whose types take plain JSON starts without it (see ``_params``).
    import pydantic

#: A function job: ``fn(ctx, params)``, or a ``JobWorker`` subclass.
Target = Callable[..., Any] | type


@dataclass(frozen=True)
class JobTypeSpec:
    """A job type as registered: what is stored plus what only this process has."""

    info: JobTypeInfo
    target: Target
    params_model: type[pydantic.BaseModel] | None
    #: "thread" runs attempts in the worker's slot threads; "process" in a child process
    #: that is killed if it ignores a stop request (timeout, cancel, suspend).
    isolation: Literal["thread", "process"] = "thread"
    #: Queues beyond ``info.queue`` its jobs may be scheduled to (the pipeline type's
    #: streaming jobs go to their own queue); a worker claims the type from each it serves.
    also_queues: tuple[str, ...] = ()

    @property
    def queues(self) -> tuple[str, ...]:
        """Every queue jobs of this type may be in, its own first."""
        return (self.info.queue, *self.also_queues)

    @property
    def type_id(self) -> str:
        """The type's id."""
        return self.info.type_id


class Registry:
    """Job groups and types known to a process; lookups fall back to a parent registry."""

    def __init__(self, parent: Registry | None = None) -> None:
        self.parent = parent
        self._types: dict[str, JobTypeSpec] = {}
        self._groups: dict[str, JobGroupInfo] = {}
        self._lock = threading.Lock()

    def group(
        self, name: str, queue: str = defaults.DEFAULT_QUEUE, description: str = ""
    ) -> JobGroupInfo:
        """Declare a job group (its queue is the default of its types)."""
        info = JobGroupInfo(name=name, queue_name=queue, description=description)
        with self._lock:
            self._groups[name] = info
        return info

    def register(self, spec: JobTypeSpec) -> None:
        """Add a job type, creating its group on first use."""
        if self.get_group(spec.info.group_name) is None:
            self.group(spec.info.group_name, spec.info.queue)
        with self._lock:
            self._types[spec.type_id] = spec

    def get(self, type_id: str) -> JobTypeSpec | None:
        """A registered type, here or in the parent."""
        found = self._types.get(type_id)
        if found is None and self.parent is not None:
            return self.parent.get(type_id)
        return found

    def get_group(self, name: str) -> JobGroupInfo | None:
        """A declared group, here or in the parent."""
        found = self._groups.get(name)
        if found is None and self.parent is not None:
            return self.parent.get_group(name)
        return found

    def groups(self) -> dict[str, JobGroupInfo]:
        """Every group declared here or in the parent (this registry's win)."""
        inherited = self.parent.groups() if self.parent is not None else {}
        return {**inherited, **self._groups}

    def types(self) -> dict[str, JobTypeSpec]:
        """Every type visible here (this registry's win over the parent's)."""
        inherited = self.parent.types() if self.parent is not None else {}
        return {**inherited, **self._types}

    def types_by_queue(self, queues: Iterable[str]) -> dict[str, list[str]]:
        """The ids of the visible types each of ``queues`` runs."""
        found: dict[str, list[str]] = {q: [] for q in queues}
        for type_id, spec in self.types().items():
            for name in spec.queues:
                if name in found:
                    found[name].append(type_id)
        return found

    def save_to(self, catalog: CatalogRepository) -> None:
        """Store every visible type with its group (a worker does as it starts)."""
        for spec in self.types().values():
            group = self.get_group(spec.info.group_name)
            assert group is not None
            catalog.save(group, spec.info)

    def decorator(
        self,
        type_id: str,
        *,
        group: str | None = None,
        queue: str | None = None,
        name: str | None = None,
        description: str | None = None,
        timeout_sec: int = defaults.TIMEOUT_SEC,
        max_retries: int = defaults.MAX_RETRIES,
        retry_delay_sec: int = defaults.RETRY_DELAY_SEC,
        suspendable: bool = False,
        params: type[pydantic.BaseModel] | dict[str, Any] | None = None,
        isolation: Literal["thread", "process"] = "thread",
        labels: str | Sequence[str] | None = None,
    ) -> Callable[[Target], Target]:
        """The ``@job_type(...)`` decorator: registers a function or a ``JobWorker`` class.

        ``labels`` (``"gpu"`` or ``["gpu", "eu"]``) are what a worker must offer to run
        the type's jobs (``headrace worker --labels gpu,eu``).
        """
        required = job_labels.parse("labels", labels)
        if not type_id or not isinstance(type_id, str):
            raise errors.InvalidInput("type_id", "a job type needs a non-empty string id")
        for field, value in (
            ("timeout_sec", timeout_sec),
            ("max_retries", max_retries),
            ("retry_delay_sec", retry_delay_sec),
        ):
            if not isinstance(value, int) or value < 0:
                raise errors.InvalidInput(field, f"must be a non-negative int, got {value!r}")
        group_name = group or type_id.split(".", 1)[0]
        known = self.get_group(group_name)
        job_queue = queue or (known.queue_name if known else defaults.DEFAULT_QUEUE)
        model, schema = _params(params)
        if isolation not in ("thread", "process"):
            msg_0 = "isolation"
            raise errors.InvalidInput(msg_0, f"must be 'thread' or 'process', got {isolation!r}")

        def register(target: Target) -> Target:
            if not callable(target):
                raise errors.InvalidInput("target", f"{target!r} is not callable")
            info = JobTypeInfo(
                type_id=type_id,
                group_name=group_name,
                name=name or type_id,
                description=description or (target.__doc__ or "").strip().split("\n")[0],
                queue=job_queue,
                timeout_sec=timeout_sec,
                max_retries=max_retries,
                retry_delay_sec=retry_delay_sec,
                suspendable=suspendable,
                params_schema=schema,
                labels=required,
            )
            if known is None:
                self.group(group_name, job_queue)
            self.register(JobTypeSpec(info, target, model, isolation))
            return target

        return register


def _params(
    params: type[pydantic.BaseModel] | dict[str, Any] | None,
) -> tuple[type[pydantic.BaseModel] | None, dict[str, Any] | None]:
    if params is None:
        return None, None
    if isinstance(params, dict):
        return None, params
    if isinstance(params, type):
        # Imported here only: a params class is a pydantic model its module has loaded
        # already, and a worker whose types take plain JSON starts without pydantic.
        import pydantic

        if issubclass(params, pydantic.BaseModel):
            return params, params.model_json_schema()
    msg = f"expected a pydantic model class or a JSON schema dict, got {params!r}"
    msg_0 = "params"
    raise errors.InvalidInput(msg_0, msg)


#: The process's default registry: the module-level ``headrace.job_type`` writes here, and
#: every client's registry falls back to it.
DEFAULT = Registry()


def job_group(
    name: str, queue: str = defaults.DEFAULT_QUEUE, description: str = ""
) -> JobGroupInfo:
    """Declare a job group in the process's default registry; its queue is its types' default.

    A module loaded with ``headrace server --import`` or ``headrace worker --import``
    declares its groups this way (before its types), and the process stores them as it
    starts: ``headrace.job_group("reports", queue="maintenance")``.
    """
    return DEFAULT.group(name, queue, description)


def job_type(type_id: str, **options: Any) -> Callable[[Target], Target]:
    """Register a job type in the process's default registry (see ``Registry.decorator``)."""
    return DEFAULT.decorator(type_id, **options)
