"""Aggregate operations: how a group of items folds into one result.

An :class:`AggregateOperation` is four plain functions (create, accumulate, combine,
finish). ``combine`` lets the engine fold partial results computed before a shuffle
(map-side combine); ``accumulate_batch`` lets it fold a whole micro-batch with a builtin
instead of one call per item.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Hashable, Iterable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

T = TypeVar("T")
A = TypeVar("A")
R = TypeVar("R")
K = TypeVar("K", bound=Hashable)

__all__ = [
    "AggregateOperation",
    "all_of",
    "averaging",
    "counting",
    "from_accumulator",
    "max_by",
    "min_by",
    "summing",
    "to_list",
    "to_set",
]


def _identity(value: Any) -> Any:
    return value


@dataclass(frozen=True)
class AggregateOperation(Generic[T, A, R]):
    """How to fold items of type ``T`` through an accumulator ``A`` into a result ``R``.

    Accumulators are treated as values: ``accumulate`` and ``combine`` return the new
    accumulator (they may also mutate and return the old one).

    Attributes:
        create: Makes an empty accumulator.
        accumulate: Folds one item into an accumulator.
        combine: Merges two accumulators; ``None`` if partial results cannot merge,
            in which case the engine ships raw items to the aggregating partition.
        finish: Turns an accumulator into the result.
        accumulate_batch: Optional fold of a whole batch (a builtin over the list).
        count_keys: True when the accumulator is the number of items, so a keyed
            aggregation can count a batch of keys with ``collections.Counter``.
        name: Shown in metrics and errors.

    Example:
        >>> op = summing(lambda x: x * 10)
        >>> op.finish(op.accumulate(op.accumulate(op.create(), 1), 2))
        30
    """

    create: Callable[[], A]
    accumulate: Callable[[A, T], A]
    combine: Callable[[A, A], A] | None = None
    finish: Callable[[A], R] = _identity
    accumulate_batch: Callable[[A, list[T]], A] | None = None
    count_keys: bool = False
    name: str = "aggregate"


def from_accumulator(accumulator: Callable[[A, T], A], initial: A) -> AggregateOperation[T, A, A]:
    """Wraps the seed's ``aggregate(accumulator=..., initial=...)`` form.

    Each group starts from a shallow copy of ``initial``, so a mutable initial value
    (a list, a dict) is never shared between groups.

    Example:
        >>> op = from_accumulator(lambda acc, x: acc + x, 0)
        >>> op.accumulate(op.create(), 5)
        5
    """
    return AggregateOperation(
        create=lambda: copy.copy(initial), accumulate=accumulator, name="accumulator"
    )


def _add(a: Any, b: Any) -> Any:
    return a + b


def _count_batch(acc: int, items: list[Any]) -> int:
    return acc + len(items)


def counting() -> AggregateOperation[Any, int, int]:
    """Counts items.

    Example:
        >>> op = counting()
        >>> op.accumulate_batch(op.create(), ["a", "b"]) if op.accumulate_batch else None
        2
    """
    return AggregateOperation(
        create=int,
        accumulate=lambda acc, _item: acc + 1,
        combine=_add,
        accumulate_batch=_count_batch,
        count_keys=True,
        name="counting",
    )


def summing(fn: Callable[[T], Any] | None = None) -> AggregateOperation[T, Any, Any]:
    """Sums ``fn(item)`` (the items themselves when ``fn`` is omitted).

    Example:
        >>> op = summing()
        >>> op.accumulate_batch(0, [1, 2, 3]) if op.accumulate_batch else None
        6
    """
    if fn is None:
        return AggregateOperation(
            create=int,
            accumulate=_add,
            combine=_add,
            accumulate_batch=lambda acc, items: acc + sum(items),
            name="summing",
        )
    f = fn
    return AggregateOperation(
        create=int,
        accumulate=lambda acc, item: acc + f(item),
        combine=_add,
        accumulate_batch=lambda acc, items: acc + sum(map(f, items)),
        name="summing",
    )


def _avg_finish(acc: tuple[Any, int]) -> float | None:
    total, n = acc
    return total / n if n else None


def _avg_combine(a: tuple[Any, int], b: tuple[Any, int]) -> tuple[Any, int]:
    return (a[0] + b[0], a[1] + b[1])


def averaging(fn: Callable[[T], Any] | None = None) -> AggregateOperation[T, Any, Any]:
    """Arithmetic mean of ``fn(item)``; ``None`` for an empty group.

    Example:
        >>> op = averaging()
        >>> op.finish(op.accumulate(op.accumulate(op.create(), 1), 2))
        1.5
    """
    f: Callable[[T], Any] = fn if fn is not None else _identity

    def batch(acc: tuple[Any, int], items: list[T]) -> tuple[Any, int]:
        return (acc[0] + sum(map(f, items)), acc[1] + len(items))

    return AggregateOperation(
        create=lambda: (0, 0),
        accumulate=lambda acc, item: (acc[0] + f(item), acc[1] + 1),
        combine=_avg_combine,
        finish=_avg_finish,
        accumulate_batch=batch,
        name="averaging",
    )


_EMPTY: Any = ()  # the accumulator of min_by/max_by before the first item


def _extreme(
    fn: Callable[[T], Any], pick: Callable[..., Any], name: str
) -> AggregateOperation[T, Any, Any]:
    def accumulate(acc: Any, item: T) -> Any:
        if acc is _EMPTY:
            return (item,)
        return (pick(acc[0], item, key=fn),)

    def combine(a: Any, b: Any) -> Any:
        if a is _EMPTY:
            return b
        if b is _EMPTY:
            return a
        return (pick(a[0], b[0], key=fn),)

    def batch(acc: Any, items: list[T]) -> Any:
        if not items:
            return acc
        best = pick(items, key=fn)
        return (best,) if acc is _EMPTY else (pick(acc[0], best, key=fn),)

    return AggregateOperation(
        create=lambda: _EMPTY,
        accumulate=accumulate,
        combine=combine,
        finish=lambda acc: None if acc is _EMPTY else acc[0],
        accumulate_batch=batch,
        name=name,
    )


def min_by(fn: Callable[[T], Any] | None = None) -> AggregateOperation[T, Any, Any]:
    """The item with the smallest ``fn(item)``; ``None`` for an empty group.

    Example:
        >>> op = min_by(len)
        >>> op.finish(op.accumulate_batch(op.create(), ["ccc", "a", "bb"]))
        'a'
    """
    return _extreme(fn if fn is not None else _identity, min, "min_by")


def max_by(fn: Callable[[T], Any] | None = None) -> AggregateOperation[T, Any, Any]:
    """The item with the largest ``fn(item)``; ``None`` for an empty group.

    Example:
        >>> op = max_by(len)
        >>> op.finish(op.accumulate_batch(op.create(), ["ccc", "a", "bb"]))
        'ccc'
    """
    return _extreme(fn if fn is not None else _identity, max, "max_by")


def _list_append(acc: list[Any], item: Any) -> list[Any]:
    acc.append(item)
    return acc


def _list_extend(acc: list[Any], items: Iterable[Any]) -> list[Any]:
    acc.extend(items)
    return acc


def to_list() -> AggregateOperation[T, list[T], list[T]]:
    """Collects the items into a list.

    Example:
        >>> op = to_list()
        >>> op.accumulate_batch(op.create(), [1, 2]) if op.accumulate_batch else None
        [1, 2]
    """
    return AggregateOperation(
        create=list,
        accumulate=_list_append,
        combine=_list_extend,
        accumulate_batch=_list_extend,
        name="to_list",
    )


def _set_add(acc: set[Any], item: Any) -> set[Any]:
    acc.add(item)
    return acc


def _set_update(acc: set[Any], items: Iterable[Any]) -> set[Any]:
    acc.update(items)
    return acc


def to_set() -> AggregateOperation[T, set[T], set[T]]:
    """Collects the distinct items into a set.

    Example:
        >>> op = to_set()
        >>> sorted(op.accumulate_batch(op.create(), [2, 1, 2])) if op.accumulate_batch else None
        [1, 2]
    """
    return AggregateOperation(
        create=set,
        accumulate=_set_add,
        combine=_set_update,
        accumulate_batch=_set_update,
        name="to_set",
    )


def all_of(
    *ops: AggregateOperation[Any, Any, Any],
) -> AggregateOperation[Any, Any, tuple[Any, ...]]:
    """Runs several operations over the same items; the result is a tuple of results.

    Example:
        >>> op = all_of(counting(), summing())
        >>> op.finish(op.accumulate(op.accumulate(op.create(), 3), 4))
        (2, 7)
    """
    operations = tuple(ops)
    mergeable = all(o.combine is not None for o in operations)

    def accumulate(acc: list[Any], item: Any) -> list[Any]:
        for i, o in enumerate(operations):
            acc[i] = o.accumulate(acc[i], item)
        return acc

    def combine(a: list[Any], b: list[Any]) -> list[Any]:
        for i, o in enumerate(operations):
            assert o.combine is not None  # only installed when every op can merge
            a[i] = o.combine(a[i], b[i])
        return a

    def batch(acc: list[Any], items: list[Any]) -> list[Any]:
        for i, o in enumerate(operations):
            if o.accumulate_batch is not None:
                acc[i] = o.accumulate_batch(acc[i], items)
            else:
                for item in items:
                    acc[i] = o.accumulate(acc[i], item)
        return acc

    return AggregateOperation(
        create=lambda: [o.create() for o in operations],
        accumulate=accumulate,
        combine=combine if mergeable else None,
        finish=lambda acc: tuple(o.finish(a) for o, a in zip(operations, acc, strict=True)),
        accumulate_batch=batch,
        name="all_of(" + ", ".join(o.name for o in operations) + ")",
    )
