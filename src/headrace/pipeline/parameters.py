"""Runtime parameters a pipeline reads: ``Pipeline.parameter("threshold", default=10)``.

A ``Parameter`` is a placeholder built with the pipeline; its ``value`` is the parameter of
the run executing it (the job's runtime parameters merged with the run's own), or its
default outside a run. The runner binds a run's parameters with ``bound(...)`` around the
engine; a parameter pickled inside that block (as the pipeline travels to worker
processes) carries the value with it, so stages read it in any process.

Example:
    >>> from headrace.pipeline import Pipeline
    >>> threshold = Pipeline.parameter("threshold", default=10)
    >>> threshold.value
    10
    >>> with bound({"threshold": 3}):
    ...     threshold.value
    3
"""

from __future__ import annotations

import contextvars
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from headrace import errors

_RUN: contextvars.ContextVar[Mapping[str, Any] | None] = contextvars.ContextVar(
    "headrace_run_parameters", default=None
)
_UNSET = object()


class Parameter:
    """A named runtime parameter of a pipeline, resolved when a run executes it."""

    __slots__ = ("_resolved", "default", "name")

    def __init__(self, name: str, default: Any = None, _resolved: Any = _UNSET) -> None:
        if not isinstance(name, str) or not name:
            raise errors.InvalidInput(
                "name", f"a parameter name is a non-empty string, got {name!r}"
            )
        self.name = name
        self.default = default
        self._resolved = _resolved

    @property
    def value(self) -> Any:
        """The running run's value of this parameter, else its default."""
        current = _RUN.get()
        if current is not None:
            return current.get(self.name, self.default)
        if self._resolved is not _UNSET:
            return self._resolved
        return self.default

    def __reduce__(self) -> tuple[Any, ...]:
        # Pickled while a run is bound (the trip to a worker process): take the value along.
        current = _RUN.get()
        if current is not None:
            return (Parameter, (self.name, self.default, current.get(self.name, self.default)))
        return (Parameter, (self.name, self.default, self._resolved))

    def __repr__(self) -> str:
        return f"Parameter({self.name!r}, default={self.default!r})"


@contextmanager
def bound(parameters: Mapping[str, Any]) -> Iterator[None]:
    """Make ``parameters`` the values every ``Parameter`` reads in this context."""
    token = _RUN.set(dict(parameters))
    try:
        yield
    finally:
        _RUN.reset(token)
