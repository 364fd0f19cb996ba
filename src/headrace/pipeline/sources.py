"""Source descriptors: what a pipeline reads, as frozen values (the reading is connectors')."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "FileSource",
    "GeneratorSource",
    "ItemsSource",
    "ListSource",
    "MapSource",
    "SourceDescriptor",
    "StreamSource",
]


@dataclass(frozen=True)
class SourceDescriptor:
    """Base of every source; ``streaming`` sources may never end."""

    @property
    def streaming(self) -> bool:
        """True when the source is unbounded."""
        return False

    @property
    def label(self) -> str:
        """A short name for metrics and errors."""
        return type(self).__name__


@dataclass(frozen=True)
class ListSource(SourceDescriptor):
    """Reads the named List; with ``items``, first fills it with them (``from_list``).

    Example:
        >>> ListSource("numbers").name
        'numbers'
    """

    name: str
    items: tuple[Any, ...] | None = None

    @property
    def label(self) -> str:
        """A short name for metrics and errors."""
        return f"list:{self.name}"


@dataclass(frozen=True)
class MapSource(SourceDescriptor):
    """Reads the named Map's entries as ``(key, value)`` pairs.

    Example:
        >>> MapSource("m").label
        'map:m'
    """

    name: str

    @property
    def label(self) -> str:
        """A short name for metrics and errors."""
        return f"map:{self.name}"


@dataclass(frozen=True)
class ItemsSource(SourceDescriptor):
    """Reads an in-memory sequence held by the pipeline itself (``Pipeline.items``).

    Example:
        >>> len(ItemsSource(range(3)).items)
        3
    """

    items: Sequence[Any]


@dataclass(frozen=True)
class GeneratorSource(SourceDescriptor):
    """Emits ``fn(i)`` for i = 0, 1, … at ``rate`` items per second; ``count`` ends it.

    Example:
        >>> GeneratorSource(100.0, 5).streaming
        True
    """

    rate: float
    count: int | None = None
    fn: Callable[[int], Any] | None = None

    @property
    def streaming(self) -> bool:
        """True when the source is unbounded."""
        return True


@dataclass(frozen=True)
class StreamSource(SourceDescriptor):
    """Reads the named Stream's partitions from ``"earliest"`` or ``"latest"`` offsets.

    Example:
        >>> StreamSource("events").start
        'earliest'
    """

    name: str
    start: str = "earliest"

    def __post_init__(self) -> None:
        if self.start not in ("earliest", "latest"):
            msg = f"start must be 'earliest' or 'latest', got {self.start!r}"
            raise ValueError(msg)

    @property
    def streaming(self) -> bool:
        """True when the source is unbounded."""
        return True

    @property
    def label(self) -> str:
        """A short name for metrics and errors."""
        return f"stream:{self.name}"


@dataclass(frozen=True)
class FileSource(SourceDescriptor):
    """Reads text lines, CSV rows or JSON lines from a path or glob pattern.

    ``fmt`` is ``"text"`` (lines without their newline), ``"csv"`` (a dict per row when
    ``header``, else a list) or ``"jsonl"`` (one decoded value per line).

    Example:
        >>> FileSource("/data/*.txt").fmt
        'text'
    """

    path: str
    fmt: str = "text"
    header: bool = True
    encoding: str = "utf-8"
    options: tuple[tuple[str, Any], ...] = field(default=())

    def __post_init__(self) -> None:
        if self.fmt not in ("text", "csv", "jsonl"):
            msg = f"file format must be text, csv or jsonl, got {self.fmt!r}"
            raise ValueError(msg)

    @property
    def label(self) -> str:
        """A short name for metrics and errors."""
        return f"{self.fmt}:{self.path}"
