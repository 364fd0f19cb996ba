"""Statements that insert the events of the rows they change, in the same statement.

Where the database takes several data-modifying CTEs in one statement (PostgreSQL), a
fenced UPDATE and the INSERT of one ``job_events`` row per step of its status path go
together: the change and its events are never apart, and no event row is built in Python.
"""

from __future__ import annotations

import itertools
from typing import Any

from sqlalchemy import (
    CTE,
    ColumnElement,
    Executable,
    Integer,
    String,
    insert,
    literal,
    null,
    select,
    true,
    union_all,
)
from sqlalchemy.sql.dml import ReturningUpdate

from headrace.model.status import Status
from headrace.store import tables
from headrace.store.job_rows import EVENT_COLUMNS

E = tables.job_events


def logging_events(
    change: ReturningUpdate[Any],
    path: tuple[Status, ...],
    reason: ColumnElement[Any] | None,
    at: ColumnElement[Any],
) -> Executable:
    """``change`` that also inserts, for each row it changed, one event per step of ``path``.

    ``change`` returns ``job_id``, ``tenant_id`` and ``attempt`` (and ``reason``, unless
    ``reason`` is given). The result returns what ``change`` returns. The events of a row
    are inserted in the order of ``path``, so their ids follow it.
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
    changed = change.cte(f"{prefix}changed")
    # Literals, not ``values()``: a VALUES list with data has no cache key, so SQLAlchemy
    # would compile the whole statement again at every execution.
    steps = union_all(
        *(
            select(
                literal(n, Integer).label("n"),
                literal(str(a), String).label("f"),
                literal(str(b), String).label("t"),
            )
            for n, (a, b) in enumerate(itertools.pairwise(path))
        )
    ).subquery(f"{prefix}steps")
    rows = (
        select(
            changed.c.job_id,
            changed.c.tenant_id,
            steps.c.f,
            steps.c.t,
            null(),
            at,
            changed.c.reason if reason is None else reason,
            changed.c.attempt,
        )
        .select_from(changed.join(steps, true()))
        .order_by(changed.c.job_id, steps.c.n)
    )
    logged = insert(E).from_select(EVENT_COLUMNS, rows).cte(f"{prefix}logged")
    return changed, logged
