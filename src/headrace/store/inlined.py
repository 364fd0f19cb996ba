"""A compiled statement's constants written into its SQL, for a statement run many times.

A worker's round (``AttemptRepository._round_sql``) binds about twenty values that never
change for its worker and shape (statuses, the worker's id, the queue, the event steps,
NULLs): each was a parameter to send, convert and bind at every execution, 7-16 us of
the round's time on the PostgreSQL side. Written as literals (with the casts SQLAlchemy
put beside them), only what varies by round is bound. Status tests stay literals as
they were (``predicates``): the partial indexes' predicates still match.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.sql.compiler import Compiled


def inlined(compiled: Compiled) -> tuple[str, dict[str, Any]]:
    """``compiled``'s SQL (``%(name)s`` parameters) with the values it holds as literals.

    Returns:
        The SQL, and the values that could not be written (bound as before); parameters
        without a value (bound at execution) stay parameters.
    """
    sql = compiled.string
    kept: dict[str, Any] = {}
    for name, value in compiled.params.items():
        bind = compiled.binds.get(name)  # type: ignore[attr-defined]
        if bind is None or bind.required:
            continue
        text = literal(value)
        if text is None:
            kept[name] = value
        else:
            sql = sql.replace(f"%({name})s", text)
    return sql, kept


def literal(value: Any) -> str | None:
    """``value`` as an SQL literal in pyformat text (``%`` doubled), or None if not simple."""
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        return "'" + value.replace("'", "''").replace("%", "%%") + "'"
    return None
