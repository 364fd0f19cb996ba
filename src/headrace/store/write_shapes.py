"""How a worker's fenced writes are grouped into statements: shapes, rounds, batch size.

A write's shape is its status path and the columns it sets; writes of one shape go in one
fenced UPDATE (``attempts``), on SQLite's driver connection too (``sqlite_round``).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from headrace.model.status import Status
from headrace.model.writes import AttemptWrite

#: A write's shape: its status path and the columns it sets.
Shape = tuple[tuple[Status, ...], tuple[str, ...]]
#: Most writes one UPDATE applies (bound parameters stay well under both databases' limits).
MAX_BATCH = 500


def one_shape(writes: Sequence[AttemptWrite]) -> Shape | None:
    """The shape all ``writes`` share, if one statement can take them, else None.

    One statement takes them when every write names another job (a job's second write
    must follow its first), all have the same path and columns, and they fit a batch.
    """
    first = writes[0]
    shape = (tuple(first.path), tuple(first.values))
    if len(writes) > MAX_BATCH or len({w.job_id for w in writes}) != len(writes):
        return None
    if any((tuple(w.path), tuple(w.values)) != shape for w in writes):
        return None
    return shape


def rounds(writes: Sequence[AttemptWrite]) -> Iterator[list[int]]:
    """Indexes of ``writes`` in rounds: each job's n-th write in round n, in input order."""
    seen: dict[str, int] = {}
    found: list[list[int]] = []
    for i, w in enumerate(writes):
        n = seen.get(w.job_id, 0)
        seen[w.job_id] = n + 1
        if n == len(found):
            found.append([])
        found[n].append(i)
    yield from found
