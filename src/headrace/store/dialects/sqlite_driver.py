"""SQLite statements compiled once by SQLAlchemy, run on the ``sqlite3`` connection.

For the hottest small writes (one schedule: two INSERTs in one transaction; a worker's
round). Through SQLAlchemy Core each ``execute`` costs tens of microseconds before the
driver sees the statement (the compiled cache lookup, the execution context, parameter
and result processing set up per call, the connection's events), and so do ``connect``,
``begin`` and ``commit``: together more than SQLite's own work for the two rows. Here a
statement is compiled by SQLAlchemy once (the same SQL its ``execute`` would send), and
each call only converts its values with the column types' own processors (a UUID is
stored as its 32 hex digits, as a bound parameter would be); the caller runs the SQL on
the connection of a ``sqlite_transaction.transaction``.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import ClauseElement, Insert, Table
from sqlalchemy.engine import Dialect as SQLDialect
from sqlalchemy.sql.compiler import SQLCompiler


@dataclass(frozen=True)
class Compiled:
    """A statement's SQL, the names of its parameters in order, and their conversions."""

    sql: str
    #: Parameter names in the order of the SQL's ``?``.
    names: tuple[str, ...]
    #: Per parameter: its column type's bind processor (None: the value goes as it is).
    binds: tuple[Callable[[Any], Any] | None, ...]
    #: Values of columns the caller leaves out that SQLAlchemy fills from a scalar default.
    defaults: Mapping[str, Any]
    #: The names of the returned columns and their result processors (empty: no rows back).
    returned: tuple[str, ...] = ()
    reads: tuple[Callable[[Any], Any] | None, ...] = ()
    #: The parameters' values in order, from ``defaults`` updated with a call's values.
    _pick: Callable[[Mapping[str, Any]], Any] = field(init=False, repr=False)
    #: The positions of parameters that have a conversion, with it.
    _binding: tuple[tuple[int, Callable[[Any], Any]], ...] = field(init=False, repr=False)
    #: The returned columns that have a conversion, with it.
    _reading: tuple[tuple[str, Callable[[Any], Any]], ...] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        pick = operator.itemgetter(*self.names) if self.names else lambda _values: ()
        one = len(self.names) == 1
        set_ = object.__setattr__
        set_(self, "_pick", (lambda values: (pick(values),)) if one else pick)
        set_(self, "_binding", tuple((i, b) for i, b in enumerate(self.binds) if b is not None))
        set_(
            self,
            "_reading",
            tuple((n, r) for n, r in zip(self.returned, self.reads, strict=True) if r is not None),
        )

    def params(self, values: Mapping[str, Any]) -> list[Any]:
        """The statement's parameters from ``values`` (by column name), converted."""
        out = list(self._pick({**self.defaults, **values} if self.defaults else values))
        for i, bind in self._binding:
            v = out[i]
            if v is not None:
                out[i] = bind(v)
        return out

    def row(self, found: Sequence[Any]) -> dict[str, Any]:
        """A returned row as ``{column: value}``, each value read as SQLAlchemy reads it."""
        row = dict(zip(self.returned, found, strict=True))
        for name, read in self._reading:
            v = row[name]
            if v is not None:
                row[name] = read(v)
        return row


def compile_insert(
    dialect: SQLDialect, table: Table, stmt: Insert, keys: Sequence[str]
) -> Compiled:
    """``stmt`` (an INSERT into ``table``) compiled for the columns ``keys``, once.

    Raises:
        ValueError: a column left out has a default that is not a plain value (a
        function or SQL expression): such a statement is not for this path.
    """
    compiled = stmt.compile(dialect=dialect, column_keys=list(keys))
    names = tuple(compiled.positiontup or ())
    defaults: dict[str, Any] = {}
    for column in compiled.insert_prefetch:
        default = column.default
        if default is None or not getattr(default, "is_scalar", False):
            msg = f"column {column.key} has a default that is not a plain value"
            raise ValueError(msg)
        defaults[column.key] = default.arg  # type: ignore[attr-defined]
    binds = tuple(_bind(dialect, table, n) for n in names)
    returned = tuple(str(c.key) for c in compiled.effective_returning or ())
    reads = tuple(
        table.c[n].type.dialect_impl(dialect).result_processor(dialect, None) for n in returned
    )
    return Compiled(compiled.string, names, binds, defaults, returned, reads)


@dataclass(frozen=True)
class Statement:
    """Any statement compiled once: its SQL, and how a call's parameters become its ``?``."""

    compiled: SQLCompiler
    names: tuple[str, ...]
    binds: tuple[Callable[[Any], Any] | None, ...]
    #: Per returned column, its type's result processor (None: read as it is).
    reads: tuple[Callable[[Any], Any] | None, ...]
    #: The positions of returned columns that have a processor, with it.
    _reading: tuple[tuple[int, Callable[[Any], Any]], ...] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        reading = tuple((i, r) for i, r in enumerate(self.reads) if r is not None)
        object.__setattr__(self, "_reading", reading)

    def read(self, found: Sequence[Any]) -> list[Any]:
        """A returned row, each value read as SQLAlchemy reads it."""
        row = list(found)
        for i, read in self._reading:
            v = row[i]
            if v is not None:
                row[i] = read(v)
        return row

    @property
    def sql(self) -> str:
        """The SQL text, as SQLAlchemy's ``execute`` would send it."""
        return self.compiled.string

    def params(self, values: Mapping[str, Any]) -> tuple[Any, ...]:
        """The parameters: ``values`` by bound name, with the values compiled in, converted."""
        bound = self.compiled.construct_params(dict(values))
        return tuple(
            bound[n] if bind is None or bound[n] is None else bind(bound[n])
            for n, bind in zip(self.names, self.binds, strict=True)
        )


def compile_statement(dialect: SQLDialect, stmt: ClauseElement) -> Statement:
    """``stmt`` compiled once for the driver (see ``Statement``)."""
    compiled = stmt.compile(dialect=dialect)
    assert isinstance(compiled, SQLCompiler)
    names = tuple(compiled.positiontup or ())
    binds = tuple(
        compiled.binds[n].type.dialect_impl(dialect).bind_processor(dialect) for n in names
    )
    reads = tuple(
        c.type.dialect_impl(dialect).result_processor(dialect, None)
        for c in compiled.effective_returning or ()
    )
    return Statement(compiled, names, binds, reads)


def _bind(dialect: SQLDialect, table: Table, name: str) -> Callable[[Any], Any] | None:
    """The bind processor of ``table``'s column ``name`` (None for a non-column parameter)."""
    if name not in table.c:
        msg = f"parameter {name!r} is not a column of {table.name}"
        raise ValueError(msg)
    proc: Callable[[Any], Any] | None = (
        table.c[name].type.dialect_impl(dialect).bind_processor(dialect)
    )
    return proc
