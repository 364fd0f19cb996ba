"""Sink descriptors: where a pipeline writes, as frozen values (the writing is connectors')."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

__all__ = [
    "CallableSink",
    "FileSink",
    "ListSink",
    "LoggerSink",
    "MapSink",
    "SinkDescriptor",
    "StreamSink",
]


@dataclass(frozen=True)
class SinkDescriptor:
    """Base of every sink."""

    @property
    def label(self) -> str:
        """A short name for metrics and errors."""
        return type(self).__name__

    @property
    def writes_locally(self) -> bool:
        """True when a worker process can write its own part (files) itself."""
        return False


@dataclass(frozen=True)
class ListSink(SinkDescriptor):
    """Appends items to the named List.

    Example:
        >>> ListSink("results").label
        'list:results'
    """

    name: str

    @property
    def label(self) -> str:
        """A short name for metrics and errors."""
        return f"list:{self.name}"


def _key(item: Any) -> Any:
    return item[0]


def _value(item: Any) -> Any:
    return item[1]


@dataclass(frozen=True)
class MapSink(SinkDescriptor):
    """Puts ``key_fn(item) -> value_fn(item)`` into the named Map (pairs by default).

    Example:
        >>> MapSink("m").key_fn(("k", 1))
        'k'
    """

    name: str
    key_fn: Callable[[Any], Any] = _key
    value_fn: Callable[[Any], Any] = _value

    @property
    def label(self) -> str:
        """A short name for metrics and errors."""
        return f"map:{self.name}"


@dataclass(frozen=True)
class StreamSink(SinkDescriptor):
    """Appends items to the named Stream.

    Example:
        >>> StreamSink("out").label
        'stream:out'
    """

    name: str

    @property
    def label(self) -> str:
        """A short name for metrics and errors."""
        return f"stream:{self.name}"


@dataclass(frozen=True)
class LoggerSink(SinkDescriptor):
    """Logs each item at INFO on the named logger.

    Example:
        >>> LoggerSink().logger
        'headrace.pipeline'
    """

    logger: str = "headrace.pipeline"


@dataclass(frozen=True)
class CallableSink(SinkDescriptor):
    """Calls ``fn(item)`` for each item, in the process that runs the pipeline.

    Example:
        >>> CallableSink(print).label
        'CallableSink'
    """

    fn: Callable[[Any], Any]


@dataclass(frozen=True)
class FileSink(SinkDescriptor):
    """Writes a directory of part files, one per partition (``part-00000.txt`` …).

    ``fmt`` is ``"text"`` (``str(item)`` per line), ``"csv"`` (a row per item: a
    sequence, or a dict whose keys become the header) or ``"jsonl"``.

    Example:
        >>> FileSink("/tmp/out", "jsonl").writes_locally
        True
    """

    path: str
    fmt: str = "text"
    encoding: str = "utf-8"

    def __post_init__(self) -> None:
        if self.fmt not in ("text", "csv", "jsonl"):
            msg = f"file format must be text, csv or jsonl, got {self.fmt!r}"
            raise ValueError(msg)

    @property
    def label(self) -> str:
        """A short name for metrics and errors."""
        return f"{self.fmt}:{self.path}"

    @property
    def writes_locally(self) -> bool:
        """True when a worker process can write its own part (files) itself."""
        return True
