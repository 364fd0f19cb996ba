"""Runs one attempt of a job type's callbacks and says how it ended."""

from __future__ import annotations

import contextlib
import traceback
from typing import TYPE_CHECKING, Any, NamedTuple

from headrace import errors
from headrace.scheduler import failure
from headrace.scheduler.context import JobContext, JobWorker
from headrace.scheduler.registry import JobTypeSpec

if TYPE_CHECKING:
    import pydantic

#: Largest error text stored for a failed attempt.
MAX_ERROR_CHARS = 16_000


class Outcome(NamedTuple):
    """How an attempt ended: with a result, by a stop request, or with an error.

    Immutable, and a tuple: a slot builds one per attempt it runs, and a tuple is built
    in half a frozen dataclass's time (which sets each field through ``object.__setattr__``).
    """

    result: Any = None
    stopped: str | None = None
    error: str | None = None


def parse_params(
    model: type[pydantic.BaseModel] | None, schema: dict[str, Any] | None, params: Any
) -> Any:
    """The params as the job type wants them: its pydantic model, or the checked JSON.

    Raises:
        InvalidInput: naming the first field that fails the type's schema.
    """
    if model is not None:
        # A params model is a pydantic class, so pydantic is loaded by now; imported here
        # so that a worker whose types take plain JSON never imports it.
        import pydantic

        try:
            return model.model_validate(params if params is not None else {})
        except pydantic.ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(p) for p in first["loc"])
            field = f"params.{where}" if where else "params"
            raise errors.InvalidInput(field, first["msg"]) from None
    if schema is not None:
        # Imported at the first job whose type has a JSON schema: a worker whose types
        # have none (or pydantic models) never pays for it at start-up.
        import jsonschema

        try:
            jsonschema.validate(params, schema)
        except jsonschema.ValidationError as exc:
            where = ".".join(str(p) for p in exc.absolute_path)
            field = f"params.{where}" if where else "params"
            raise errors.InvalidInput(field, exc.message) from None
    return params


def instantiate(spec: JobTypeSpec) -> JobWorker | None:
    """A fresh ``JobWorker`` for a class-form type (one per attempt), else None."""
    target = spec.target
    if isinstance(target, type) and issubclass(target, JobWorker):
        return target()
    return None


def run_attempt(spec: JobTypeSpec, ctx: JobContext, worker: JobWorker | None) -> Outcome:
    """Run the job's callbacks in this thread; never raises."""
    try:
        if worker is not None:
            worker.init(ctx, ctx.resumed)
            if ctx.resumed:
                worker.on_resume(ctx)
            worker.on_state_update(ctx, "running")
            result = worker.execute(ctx)
        else:
            result = spec.target(ctx, ctx.params)
    except errors.JobStopped as stop:
        if stop.reason in ("self-suspend", "restart"):
            return Outcome(stopped=stop.reason, error=stop.detail)
        return _stopped(worker, ctx, stop.reason)
    except Exception:
        if ctx.cancelled:
            # An error raised because the job was told to stop is the stop, not a failure.
            return _stopped(worker, ctx, ctx.stop_reason or "stop")
        return Outcome(error=failure.describe(traceback.format_exc(), MAX_ERROR_CHARS))
    if ctx.cancelled:
        return _stopped(worker, ctx, ctx.stop_reason or "stop")
    return Outcome(result)


def _stopped(worker: JobWorker | None, ctx: JobContext, reason: str) -> Outcome:
    if worker is not None and reason == "suspend":
        try:
            worker.on_suspend(ctx)
        except Exception:
            return Outcome(
                stopped=reason, error=failure.describe(traceback.format_exc(), MAX_ERROR_CHARS)
            )
    return Outcome(stopped=reason)


def notify_state(worker: JobWorker | None, ctx: JobContext, status: str) -> None:
    """Tell a class-form job of a status it took (errors in the callback are ignored)."""
    if worker is not None:
        with contextlib.suppress(Exception):
            worker.on_state_update(ctx, status)
