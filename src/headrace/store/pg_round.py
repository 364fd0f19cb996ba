"""PostgreSQL: a worker's common round as one statement, and its SQL compiled once.

The round ``AttemptRepository.pump`` runs on PostgreSQL when its writes share one shape and
it claims from at most one queue: the fenced UPDATE of the writes, the claim, and the
events of both, as data-modifying CTEs of one statement, which commits on its own.

The events of both go in **one** INSERT (a UNION ALL of the writes' event rows and the
claims', one row per job: ``job_rows.event_row``; a round changes a job once, so no order
is needed among them): one ``ModifyTable`` fewer to start and finish per round, with the
event table and its two indexes opened once instead of twice. The two UPDATEs stay apart (one
finds held rows by key, the other takes waiting ones ``FOR UPDATE SKIP LOCKED``); they never
meet, since a job is either held by this worker or waiting in the statement's snapshot.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy import (
    CTE,
    ColumnElement,
    CompoundSelect,
    Integer,
    Select,
    String,
    Text,
    bindparam,
    cast,
    insert,
    literal,
    null,
    select,
    union_all,
)
from sqlalchemy.sql.dml import ReturningUpdate

from headrace.model.status import Status
from headrace.model.writes import AttemptWrite
from headrace.store import claims, tables
from headrace.store.database import Store
from headrace.store.job_rows import EVENT_COLUMNS, via_of
from headrace.store.predicates import AT
from headrace.store.write_shapes import Shape

E = tables.job_events
#: ``(path, names, logged)`` to the fenced ``UPDATE`` of same-shaped writes, returning job
#: id, attempt, tenant and (when ``logged``) the write's reason (``AttemptRepository``).
ShapeUpdate = Callable[[tuple[Status, ...], tuple[str, ...], bool], ReturningUpdate[Any]]
#: A bound parameter in the driver's SQL as SQLAlchemy compiles it for psycopg.
_PARAM = re.compile(r"%\((\w+)\)s")
#: The kinds of rows a round returns, in its first column.
WRITTEN, CLAIMED = 0, 1


class RoundSql:
    """The round statements of one worker, as the driver's SQL, compiled once per kind."""

    def __init__(
        self,
        store: Store,
        worker_id: str,
        origin_filter: tuple[ColumnElement[bool], ...],
        shape_update: ShapeUpdate,
    ) -> None:
        """``shape_update`` builds the writes' fenced UPDATE (see ``ShapeUpdate``)."""
        self.store = store
        self.worker_id = worker_id
        self._origin_filter = origin_filter
        self._shape_update = shape_update
        self._compiled: dict[tuple[Any, ...], tuple[str, dict[str, Any]]] = {}

    def sql(
        self, shape: Shape | None, queue: str, types: tuple[str, ...] | None
    ) -> tuple[str, dict[str, Any]]:
        """The round's statement as the driver's SQL and its fixed parameters.

        It runs on the store's prepared session (``Store.prepared_rows``), not through
        SQLAlchemy's execution. Its rows begin with ``WRITTEN`` for a write whose fence held
        (job id, tenant, attempt where a claim has them; the rest NULL) and with ``CLAIMED``
        for a claimed job (``CLAIMED_COLUMNS``).
        """
        key = (shape, queue, types)
        compiled = self._compiled.get(key)
        if compiled is None:
            built = self.statement(shape, queue, types).compile(dialect=self.store.engine.dialect)
            # Every value is bound as it is (no type of ours converts one on the way in),
            # in binary (``%(name)b``): psycopg packs ints and floats without formatting
            # them as text, and the server reads them without parsing (round micro-
            # benchmark, alternating: driver CPU per round of 8 -16 %, backend -10 to -17 %
            # per round of 1). Every parameter is cast in the SQL, so the types sent
            # (text for a string, int2/4/8 for an int) are converted there as before.
            binary = _PARAM.sub(r"%(\1)b", built.string)
            compiled = self._compiled[key] = (binary, dict(built.params))
        return compiled

    def statement(
        self, shape: Shape | None, queue: str, types: tuple[str, ...] | None
    ) -> Select[Any] | CompoundSelect[Any]:
        """``sql``'s statement: the fenced UPDATE, the claim, one INSERT of their events."""
        parts: list[Select[Any]] = []
        events: list[Select[Any]] = []
        if shape is not None:
            path, names = shape
            changed = self._shape_update(path, names, bool(path)).cte("w_changed")
            if path:
                events.append(_events(changed, path, changed.c.reason))
            kept = ("job_id", "tenant_id", "attempt")
            parts.append(
                select(
                    literal(WRITTEN, Integer).label("k"),
                    *(
                        changed.c[c.name] if c.name in kept else null()
                        for c in claims.CLAIMED_COLUMNS
                    ),
                )
            )
        if types is not None:
            claim = claims.claim_update(
                self.store.dialect, self.worker_id, self._origin_filter, queue, types, "c_"
            )
            claimed = claim.cte("c_changed")
            reason = bindparam("p_reason", type_=Text)
            events.append(_events(claimed, (Status.WAITING, Status.LOCKED), reason))
            parts.append(select(literal(CLAIMED, Integer).label("k"), *claimed.c))
        built: Select[Any] | CompoundSelect[Any] = union_all(*parts) if len(parts) > 1 else parts[0]
        if not events:
            return built
        rows = union_all(*events) if len(events) > 1 else events[0]
        return built.add_cte(insert(E).from_select(EVENT_COLUMNS, rows).cte("logged"))


def rows_params(writes: Sequence[AttemptWrite], path: Sequence[Status]) -> dict[str, Any]:
    """The round's rows-table parameters for same-shaped writes: their JSON and their count.

    The same text as ``AttemptRepository._rows_params`` makes through the dialect's
    ``rows_value`` (the keys ``job_id``, ``attempt``, the written columns in the writes'
    order, and ``reason`` where the write logs events), built straight from each write's
    values: the generic path looks every column up in the table and zips tuples into
    dicts, a seventh of the pump thread's CPU per round.
    """
    if path:
        rows = [
            {"job_id": w.job_id, "attempt": w.attempt, **w.values, "reason": w.reason}
            for w in writes
        ]
    else:
        rows = [{"job_id": w.job_id, "attempt": w.attempt, **w.values} for w in writes]
    return {"v_rows": json.dumps(rows), "v_count": len(writes)}


def _events(changed: CTE, path: tuple[Status, ...], reason: ColumnElement[Any]) -> Select[Any]:
    """The event row of ``path`` (``job_rows.event_row``) for each row of ``changed``.

    Named as ``EVENT_COLUMNS``, so the rounds' two kinds of events form one UNION ALL.
    """
    via = via_of(path)
    return select(
        changed.c.job_id.label("job_id"),
        changed.c.tenant_id.label("tenant_id"),
        literal(str(path[0]), String).label("from_status"),
        literal(str(path[-1]), String).label("to_status"),
        cast(null(), E.c.user_id.type).label("user_id"),
        AT.label("at_ms"),
        reason.label("reason"),
        changed.c.attempt.label("attempt"),
        (cast(null(), Text) if via is None else literal(via, Text)).label("via"),
    )
