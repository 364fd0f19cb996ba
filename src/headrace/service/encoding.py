"""How the store encodes what Lists, Maps and Streams hold: keys and values as pickles.

Light on purpose (no SQLAlchemy, no store): an engine worker process encodes its sink
output here, in parallel with the other workers, so that the process that owns the
store only has the database's work left (``StoreProviderRef.encoder``). The handles
of ``headrace.service.data`` encode with the same functions, so a value stored by a
worker and one stored by ``put_all`` are the same bytes.
"""

from __future__ import annotations

import functools
import operator
import pickle
from collections.abc import Callable, Iterable
from typing import Any

from headrace import errors
from headrace.pipeline import pickling

__all__ = [
    "dump",
    "dump_key",
    "dump_keys",
    "dump_many",
    "encoder",
    "list_rows",
    "load",
    "map_rows",
    "sorted_map_rows",
]

#: Plain pickle as ``dump`` and ``dump_key`` make it, called from C over a batch.
_plain = functools.partial(pickle.dumps, protocol=5)
#: The module name a pickle holds when it refers to something of the user's ``__main__``.
_MAIN = b"__main__"


def dump(value: Any) -> bytes:
    """A value as stored (``pickling.dumps_fast``): lambdas and local classes survive.

    Plain pickle where it can, cloudpickle for what it cannot carry or what the
    user's ``__main__`` defines: the same bytes as cloudpickle for data, much faster.
    """
    try:
        return pickling.dumps_fast(value)
    except Exception as exc:
        msg = f"{type(value).__name__} cannot be pickled: {exc}"
        msg_0 = "value"
        raise errors.InvalidInput(msg_0, msg) from None


def dump_many(values: Iterable[Any]) -> list[bytes]:
    """Values as ``dump`` stores each, plain-pickled in one pass where they allow it.

    A batch (a sink's output, ``put_all``) is mostly plain data: one ``map`` of pickle
    spares a Python call per value. What plain pickle refuses or what names the user's
    ``__main__`` goes through ``dump`` (cloudpickle), as it would alone. The name is
    looked for once in the batch joined: every pickle ends with its STOP byte ``.``,
    which the name lacks, so a match never spans two pickles.
    """
    seq = values if isinstance(values, list | tuple) else list(values)
    try:
        out = list(map(_plain, seq))
    except Exception:
        return [dump(v) for v in seq]
    if _MAIN in b"".join(out):
        return [dump(v) if _MAIN in b else b for v, b in zip(seq, out, strict=True)]
    return out


def dump_key(key: Any) -> bytes:
    """A Map key as stored: its pickle, equal for equal str/int/tuple/... keys."""
    try:
        return pickle.dumps(key, protocol=5)
    except Exception as exc:
        msg = f"{type(key).__name__} cannot be pickled: {exc}"
        msg_0 = "key"
        raise errors.InvalidInput(msg_0, msg) from None


def dump_keys(keys: Iterable[Any]) -> list[bytes]:
    """Map keys as ``dump_key`` stores each, in one pass.

    Raises:
        InvalidInput: a key cannot be pickled.
    """
    seq = keys if isinstance(keys, list | tuple) else list(keys)
    try:
        return list(map(_plain, seq))
    except Exception:
        return [dump_key(k) for k in seq]


#: A stored value from its bytes: ``pickle.loads`` itself, not a function calling it, since
#: reads call it once per item (a 10,000-entry Map: 20,000 calls, ~2 ms of frames).
load: Callable[[bytes], Any] = pickle.loads


def map_rows(pairs: Iterable[tuple[Any, Any]]) -> list[tuple[bytes, bytes]]:
    """``(key, value)`` pairs as a Map's rows: ``(dump_key(key), dump(value))``.

    Raises:
        InvalidInput: a key or a value cannot be pickled.
    """
    seq = pairs if isinstance(pairs, list | tuple) else list(pairs)
    keys = dump_keys([p[0] for p in seq])
    return list(zip(keys, dump_many([p[1] for p in seq]), strict=True))


def sorted_map_rows(pairs: Iterable[tuple[Any, Any]]) -> list[tuple[bytes, bytes]]:
    """``map_rows`` in the order of their encoded keys (stable: equal keys keep theirs).

    What an engine worker sends for a Map sink. The store sorts a batch of rows by key
    before it writes them (filling the key's B-tree in order); a batch made of runs
    already sorted, one per part a worker sent, sorts in a fraction of the time of one
    in arrival order, and that time would be the writing process's, the workers' own
    sorts run in parallel. Of equal keys the later still wins.

    Raises:
        InvalidInput: a key or a value cannot be pickled.
    """
    rows = map_rows(pairs)
    rows.sort(key=operator.itemgetter(0))
    return rows


def list_rows(items: Iterable[Any]) -> list[bytes]:
    """Items as a List holds them (``dump`` of each).

    Raises:
        InvalidInput: an item cannot be pickled.
    """
    return dump_many(items)


def encoder(kind: str) -> Callable[[list[Any]], list[Any]] | None:
    """The encoding of a ``"map"``'s ``(key, value)`` pairs or a ``"list"``'s items.

    ``None`` for a Stream: where each item goes is decided by the handle that appends.
    """
    if kind == "map":
        return sorted_map_rows
    if kind == "list":
        return list_rows
    return None
