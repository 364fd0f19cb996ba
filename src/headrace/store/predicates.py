"""Job tests shared by the worker's statements (claims, heartbeats, the reaper): statuses, labels.

Status tests are SQL literals, not bound parameters. A prepared statement may run on
PostgreSQL's generic plan, which cannot use a partial index (``ix_jobs_claim``,
``ix_jobs_held``, ``ix_jobs_retrying``) whose predicate names a status unless the query
names it literally; with a parameter the claim fell back to scanning every job of its
type, each round.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import BigInteger, ColumnElement, String, bindparam, func, literal_column, or_

from headrace.model import labels
from headrace.model import status as machine
from headrace.model.status import Status
from headrace.store import tables

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
