"""The shape every dialect module has."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any, Protocol

from sqlalchemy import Column, ColumnElement, Connection, Engine, FromClause, Insert, Select, Table
from sqlalchemy.engine import Dialect as SQLDialect


class Dialect(Protocol):
    """What the dialect-neutral store asks of a database."""

    name: str
    #: Whether the database can wake idle workers itself (LISTEN/NOTIFY).
    can_notify: bool
    #: Whether a statement may carry data-modifying CTEs (``WITH u AS (UPDATE ...
    #: RETURNING ...) INSERT ...``), so one statement both changes jobs and logs events.
    dml_in_cte: bool

    def create_engine(self, url: str) -> Engine:
        """An engine configured for this database."""
        ...

    def insert_ignoring_conflicts(self, table: Table) -> Insert:
        """``INSERT ... ON CONFLICT DO NOTHING`` for ``table``."""
        ...

    def upsert(self, table: Table, key: Sequence[str], row: dict[str, Any]) -> Insert:
        """Insert ``row`` or update it in place when ``key`` exists."""
        ...

    def bulk_insert(
        self,
        conn: Connection,
        table: Table,
        fixed: dict[str, Any],
        columns: Sequence[str],
        rows: Sequence[Sequence[Any]],
        key: Sequence[str] = (),
        new: bool = False,
    ) -> None:
        """Insert ``rows`` (values of ``columns``, plus ``fixed`` in each) in bulk.

        With ``key``, a row whose key exists replaces its other columns (rows must not
        repeat a key). With ``new`` too, the caller knows no row of ``key`` can exist yet
        (their structure was made in this transaction): the rows go in without looking for
        one. A bounded number of statements whatever the number of rows.
        """
        ...

    def try_lock(self, conn: Connection, key: int) -> bool:
        """Take a lock held until the transaction ends, or say it is taken elsewhere."""
        ...

    def notify(self, conn: Connection, channel: str) -> None:
        """Wake listeners on ``channel`` when the transaction commits."""
        ...

    def listen(
        self, engine: Engine, channel: str, on_wake: Callable[[], None]
    ) -> Callable[[], None]:
        """Call ``on_wake`` on every notification; returns a function that stops listening."""
        ...

    def rows_table(self, name: str, columns: Sequence[Column[Any]]) -> FromClause:
        """A table named ``name`` of rows bound as one parameter, ``{name}_rows``.

        Its columns are typed as ``columns``. One parameter whatever the number of rows,
        so a statement built on it is built and compiled once, and reused.
        """
        ...

    def rows_value(
        self, dialect: SQLDialect, columns: Sequence[Column[Any]], rows: Iterable[Sequence[Any]]
    ) -> Any:
        """The value to bind to ``rows_table``'s parameter for ``rows``."""
        ...

    def not_for_index(self, column: ColumnElement[Any]) -> ColumnElement[Any]:
        """``column`` as a term the planner must not pick an index for.

        For a query whose other term (a key range) is the selective one, where SQLite's
        planner, without statistics, would rather scan an index on this column.
        """
        ...

    def row_key(self, table: Table) -> ColumnElement[Any]:
        """The cheapest key to find ``table``'s rows again by, in a statement that chose them.

        Its primary key; on SQLite, the rowid the table is stored by (a primary key that
        is not an integer is an index of its own, one more B-tree to walk each row).
        """
        ...

    def among_chosen(self, column: ColumnElement[Any], chosen: Select[Any]) -> ColumnElement[bool]:
        """``column`` is one of the values ``chosen`` (one column) picked, evaluated once.

        For an UPDATE of the few rows a locking subquery chose: the rows must be found by
        key whatever the planner guesses their number to be.
        """
        ...
