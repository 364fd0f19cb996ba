"""Statements that insert the events of the rows they change, in the same statement.

Where the database takes several data-modifying CTEs in one statement (PostgreSQL), a
fenced UPDATE and the INSERT of the ``job_events`` row of its status path (one per changed
row, as ``job_rows.event_row`` makes it) go together: the change and its events are never
apart, and no event row is built in Python.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    CTE,
    ColumnElement,
    Executable,
    String,
    Text,
    insert,
    literal,
    null,
    select,
)
from sqlalchemy.sql.dml import ReturningUpdate

from headrace.model.status import Status
from headrace.store import tables
from headrace.store.job_rows import EVENT_COLUMNS, via_of

E = tables.job_events


def logging_events(
    change: ReturningUpdate[Any],
    path: tuple[Status, ...],
    reason: ColumnElement[Any] | None,
    at: ColumnElement[Any],
) -> Executable:
    """``change`` that also inserts, for each row it changed, the event row of ``path``.

    ``change`` returns ``job_id``, ``tenant_id`` and ``attempt`` (and ``reason``, unless
    ``reason`` is given). The result returns what ``change`` returns. One event row per
    changed row, whatever the length of ``path`` (``job_rows.event_row``).
    """
    changed, inserted = logged(change, path, reason, at)
    return select(*changed.c).add_cte(inserted)


def logged(
    change: ReturningUpdate[Any],
    path: tuple[Status, ...],
    reason: ColumnElement[Any] | None,
    at: ColumnElement[Any],
    prefix: str = "",
) -> tuple[CTE, CTE]:
    """``change`` and the INSERT of its events as CTEs (named with ``prefix``).

    See ``logging_events``; a statement that holds several changes names them apart.
    """
    assert len(path) >= 2, path
    changed = change.cte(f"{prefix}changed")
    via = via_of(path)
    rows = select(
        changed.c.job_id,
        changed.c.tenant_id,
        literal(str(path[0]), String),
        literal(str(path[-1]), String),
        null(),
        at,
        changed.c.reason if reason is None else reason,
        changed.c.attempt,
        null() if via is None else literal(via, Text),
    )
    logged = insert(E).from_select(EVENT_COLUMNS, rows).cte(f"{prefix}logged")
    return changed, logged
