"""How the CLI prints: Rich tables with a header, ``field: value`` records, JSON, ages.

Tables go to stdout whether or not it is a terminal (scripts use ``--json``); progress
bars go to stderr, and only on a terminal.
"""

from __future__ import annotations

import dataclasses
import json
import sys
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import typer
from rich.console import Console
from rich.table import Table

from headrace.model.clock import now_ms

#: Width of tables when stdout is not a terminal (Rich would otherwise assume 80).
PIPE_WIDTH = 200

Column = tuple[str, Callable[[Any], str]]
#: Headers of columns holding ids, and the width of a UUID.
ID_HEADERS = frozenset({"ID", "JOB", "WORKER"})
ID_WIDTH = 36


def plain(value: Any) -> Any:
    """Dataclasses (and lists of them) as JSON-ready dicts and lists."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {k: plain(v) for k, v in dataclasses.asdict(value).items()}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    return value


def console() -> Console:
    """A console on stdout, wide when stdout is not a terminal."""
    return Console(width=None if sys.stdout.isatty() else PIPE_WIDTH)


def table(rows: Iterable[Any], columns: Sequence[Column], title: str = "") -> None:
    """Print a Rich table: one header per column, one line per row."""
    shown = Table(title=title or None, show_header=True, header_style="bold")
    for header, _ in columns:
        # Ids are shown whole, never cut: they are what the user copies back.
        is_id = header in ID_HEADERS
        shown.add_column(header, no_wrap=is_id, min_width=ID_WIDTH if is_id else None)
    for row in rows:
        shown.add_row(*(cell(row) for _, cell in columns))
    console().print(shown)


def emit_json(value: Any) -> None:
    """Print ``value`` as one line of JSON."""
    typer.echo(json.dumps(plain(value), default=str))


def emit_one(record: Any, as_json: bool) -> None:
    """Print one record: JSON, or one ``field: value`` line per field (times made human)."""
    data = plain(record)
    if as_json:
        emit_json(data)
        return
    width = max(len(k) for k in data)
    for key, value in data.items():
        text = text_of(value)
        if key.endswith("_ms") and isinstance(value, int) and value > 0:
            text = f"{text} ({ago(value)})"
        typer.echo(f"{key.ljust(width)}  {text}")


def text_of(value: Any) -> str:
    """A value as a table cell: empty for None, two decimals for floats, JSON for the rest."""
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.2f}"
    if isinstance(value, dict | list):
        return json.dumps(value, default=str)
    return str(value)


def span(seconds: float) -> str:
    """A duration in the largest unit that fits: ``42s``, ``3m``, ``5h``, ``2d``."""
    seconds = abs(seconds)
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            return f"{int(seconds // size)}{unit}"
    return f"{int(seconds)}s"


def ago(at_ms: int | None, now: int | None = None) -> str:
    """An epoch-ms time as ``12s ago`` (or ``in 5m`` for the future); empty for None."""
    if at_ms is None:
        return ""
    delta = ((now if now is not None else now_ms()) - at_ms) / 1000
    if -1 < delta < 1:
        return "just now"
    return f"{span(delta)} ago" if delta > 0 else f"in {span(delta)}"


def percent(value: float | None) -> str:
    """A 0..1 fraction as ``42%``."""
    return "" if value is None else f"{value * 100:.0f}%"
