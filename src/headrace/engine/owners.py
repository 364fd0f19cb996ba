"""Which partition owns a key (``hash(key) % n``), and a mapping split by owner at C speed.

Folded state (a sender's keyed accumulators, a closed window) goes to the partitions
owning its keys once, at a watermark or the end. Splitting it with a Python loop costs
a bytecode round per key; here the owners are looked up through ``map`` (a key seen
before costs a dict lookup, a new one a call) and each share is picked out with
``itertools.compress``, so the per-key work runs in C.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from itertools import compress
from operator import itemgetter, not_
from typing import Any, TypeVar

__all__ = ["Owners"]

V = TypeVar("V")
#: The key of a ``(key, value)`` pair.
_KEY = itemgetter(0)

#: Keys remembered at most; past this the memo starts afresh (keys seen once, e.g. ids,
#: must not grow it without bound).
MEMO_KEYS = 1 << 20


class _Memo(dict[Any, int]):
    """``key -> hash(key) % n``, filled on first sight."""

    def __init__(self, n: int) -> None:
        super().__init__()
        self.n = n

    def __missing__(self, key: Any) -> int:
        owner = self[key] = hash(key) % self.n
        return owner


class Owners:
    """The owning partition of each key, out of ``n``, and splits by owner."""

    def __init__(self, n: int) -> None:
        self.n = n
        self._memo = _Memo(n)

    def of(self, keys: Iterable[Any]) -> list[int]:
        """The owner of each key, in order."""
        memo = self._memo
        if len(memo) > MEMO_KEYS:
            memo.clear()
        return list(map(memo.__getitem__, keys))

    def split(self, mapping: Mapping[Any, V]) -> list[dict[Any, V]]:
        """``mapping``'s entries as one dict per owner (index = partition), order kept."""
        n = self.n
        if n == 1:
            return [dict(mapping)]
        owner = self.of(mapping)
        entries = mapping.items()
        if n == 2:
            return [dict(compress(entries, map(not_, owner))), dict(compress(entries, owner))]
        return [dict(compress(entries, map(p.__eq__, owner))) for p in range(n)]

    def split_pairs(self, pairs: list[tuple[Any, V]]) -> list[list[tuple[Any, V]]]:
        """``(key, value)`` pairs as one list per owner (index = partition), order kept."""
        n = self.n
        if n == 1:
            return [pairs]
        owner = self.of(map(_KEY, pairs))
        if n == 2:
            return [list(compress(pairs, map(not_, owner))), list(compress(pairs, owner))]
        return [list(compress(pairs, map(p.__eq__, owner))) for p in range(n)]
