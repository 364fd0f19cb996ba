"""Job tests shared by the worker's statements (claims, heartbeats, the reaper): statuses, labels.

Status tests are SQL literals, not bound parameters. A prepared statement may run on
PostgreSQL's generic plan, which cannot use a partial index (``ix_jobs_claim``,
``ix_jobs_held``, ``ix_jobs_retrying``) whose predicate names a status unless the query
names it literally; with a parameter the claim fell back to scanning every job of its
type, each round.
"""

from __future__ import annotations

import functools
import operator
from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import (
    BigInteger,
    ColumnElement,
    Select,
    String,
    and_,
    bindparam,
    func,
    literal_column,
    or_,
    select,
)

from headrace.model import labels
from headrace.model import status as machine
from headrace.model.status import Status
from headrace.store import tables
from headrace.store.dialects.base import Dialect

J = tables.jobs
#: In the order of ``ix_jobs_held``'s predicate (``tables.HELD``): SQLite uses a partial
#: index only for a query term identical to its predicate, the equalities' order included, and
#: ``machine.HELD`` is a set, whose order changes with each process's string hashing (in
#: most orders ``held`` and the reaper scanned the whole table).
HELD = sorted((str(s) for s in machine.HELD), key=lambda s: tables.HELD.index(f"'{s}'"))
WAITING, LOCKED = str(Status.WAITING), str(Status.LOCKED)
IS_WAITING = J.c.status == literal_column(f"'{WAITING}'", String)
#: ``tables.HELD`` as written (equalities joined by OR, in its order), as SQLite matches
#: a partial index's predicate term by term.
IS_HELD = or_(*(J.c.status == literal_column(f"'{s}'", String) for s in HELD))
IS_RETRYING = J.c.status == literal_column(f"'{Status.RETRYING}'", String)
#: The time of a statement (epoch ms), bound at execution.
AT = bindparam("p_at", type_=BigInteger)
COMPLETED = str(Status.COMPLETED)
#: ``tables.REST``'s statuses in its order: none of the hot path's (``ix_jobs_tenant_rest``).
NOT_REST = list(tables.ON_HOT_PATH)
REST = [str(s) for s in Status if str(s) not in NOT_REST]
#: ``tables.REST`` as written (inequalities joined by AND, in its order).
IS_REST = and_(*(J.c.status != literal_column(f"'{s}'", String) for s in NOT_REST))
#: The statuses split by the partial index that holds them, with its predicate as written
#: and whether the index leads with ``tenant_id``; ``completed`` is in none (``by_status``).
GROUPS: tuple[tuple[ColumnElement[bool], tuple[str, ...], bool], ...] = (
    (IS_WAITING, (WAITING,), False),
    (IS_HELD, tuple(HELD), False),
    (IS_RETRYING, (str(Status.RETRYING),), False),
    (IS_REST, tuple(REST), True),
)


def by_status(
    statuses: Iterable[str], tenant_id: str | None, dialect: Dialect
) -> list[ColumnElement[bool]]:
    """``status IN statuses`` (and the tenant's) as disjoint terms, one per partial index.

    Each term holds its index's predicate as written (SQLite uses a partial index only for
    a query naming its terms; PostgreSQL's generic plans only for literals), narrowed to
    the statuses asked for. Where the index does not lead with the tenant
    (``ix_jobs_claim``, ``ix_jobs_held``, ``ix_jobs_retrying``) the tenant's term is kept
    from an index of its own: SQLite would rather walk all the tenant's jobs in
    ``ix_jobs_tenant_scheduled``. ``completed``, in no partial index, is the last term,
    over the tenant's jobs.
    """
    wanted = {str(s) for s in statuses}

    def mine(leads: bool) -> list[ColumnElement[bool]]:
        if tenant_id is None:
            return []
        column = J.c.tenant_id if leads else dialect.not_for_index(J.c.tenant_id)
        return [column == tenant_id]

    terms: list[ColumnElement[bool]] = []
    for predicate, members, leads in GROUPS:
        chosen = [s for s in members if s in wanted]
        if len(chosen) == len(members):
            terms.append(and_(predicate, *mine(leads)))
        elif chosen:
            terms.append(and_(predicate, J.c.status.in_(chosen), *mine(leads)))
    if COMPLETED in wanted:
        terms.append(and_(J.c.status == COMPLETED, *mine(True)))
    return terms


def count_by_status(
    clauses: Sequence[ColumnElement[bool]],
    statuses: Iterable[str],
    tenant_id: str,
    dialect: Dialect,
) -> Select[Any]:
    """One statement counting the tenant's jobs meeting ``clauses`` with a status in ``statuses``.

    A sum of counts over the partial indexes the statuses are in; with ``completed``
    asked for, the count of every status (``ix_jobs_tenant_scheduled``) minus those of
    the statuses not asked for. One statement: one snapshot.
    """
    wanted = {str(s) for s in statuses}

    def count(term: ColumnElement[bool]) -> ColumnElement[Any]:
        return select(func.count()).select_from(J).where(term, *clauses).scalar_subquery()

    if COMPLETED in wanted:
        others = by_status((str(s) for s in Status if str(s) not in wanted), tenant_id, dialect)
        every = count(J.c.tenant_id == tenant_id)
        total = functools.reduce(operator.sub, [count(t) for t in others], every)
    else:
        terms = by_status(wanted, tenant_id, dialect)
        total = functools.reduce(operator.add, [count(t) for t in terms])
    return select(total)


def labels_filter(offered: labels.Labels) -> ColumnElement[bool]:
    """Jobs a worker offering ``offered`` may claim: those whose required labels it has.

    A job's labels are stored ``,a,b,`` (sorted, each once): removing every offered
    ``,x,`` from it leaves ``,`` exactly when the worker offers them all. Built once
    per worker, with the labels as SQL literals (they are checked words, no quotes).
    """
    if not offered:
        return J.c.labels.is_(None)
    rest: ColumnElement[Any] = J.c.labels
    for label in offered:
        rest = func.replace(
            rest, literal_column("'," + label + ",'", String), literal_column("','", String)
        )
    return or_(J.c.labels.is_(None), rest == literal_column("','", String))
