"""Which partition owns a key (``hash(key) % n``), and a mapping split by owner at C speed.

Folded state (a sender's keyed accumulators, a closed window) goes to the partitions
owning its keys once, at a watermark or the end. Appending entry by entry to a bucket
per owner costs several bytecode rounds per key; here the owners are computed in one
comprehension (or, for keys seen in an earlier window, looked up through ``map`` at C
speed) and each share is picked out with ``itertools.compress``, so the rest runs in C.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, MutableMapping
from itertools import compress
from operator import not_
from typing import Any, TypeVar

__all__ = ["Owners"]

V = TypeVar("V")

#: Keys remembered at most; past this the memo starts afresh (keys seen once, e.g. ids,
#: must not grow it without bound).
MEMO_KEYS = 1 << 20


class Owners:
    """The owning partition of each key, out of ``n``, and splits by owner.

    With ``remember`` (state split again and again, e.g. window after window over the
    same keys) the owners are kept: a known key then costs one dict lookup at C speed.
    """

    def __init__(self, n: int, remember: bool = True) -> None:
        self.n = n
        self._memo: dict[Any, int] | None = {} if remember else None

    def of(self, keys: Collection[Any]) -> list[int]:
        """The owner of each key, in order."""
        memo, n = self._memo, self.n
        if memo is not None:
            try:
                return list(map(memo.__getitem__, keys))
            except KeyError:  # a key not seen before: compute them all, remember them
                if len(memo) > MEMO_KEYS:
                    memo.clear()
        owner = [hash(k) % n for k in keys]
        if memo is not None:
            memo.update(zip(keys, owner, strict=True))
        return owner

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

    def split_off(self, mapping: MutableMapping[Any, V], keep: int) -> list[MutableMapping[Any, V]]:
        """Like ``split``, but partition ``keep``'s share is ``mapping`` itself.

        The other owners' entries are popped out of ``mapping`` into dicts of their own;
        what stays (order kept) is ``keep``'s. Only the entries that leave are copied: a
        sender handing its folded state to the owners builds one dict fewer, and the
        one it keeps would be the largest to build when its worker owns most keys.
        """
        n = self.n
        if n == 1:
            return [mapping]
        keys = list(mapping)
        owner = self.of(keys)
        pop = mapping.pop
        shares: list[MutableMapping[Any, V]] = []
        for p in range(n):
            if p == keep:
                shares.append(mapping)
                continue
            mine = list(compress(keys, map(p.__eq__, owner)))
            shares.append(dict(zip(mine, map(pop, mine), strict=True)))
        return shares
