"""Pipelines pickled with cloudpickle, keeping the file names of the user's functions.

cloudpickle carries what ``__main__`` defines by value and renames each such function's
code file ``<dynamic-code>`` (a deterministic payload). A job's traceback then hides where
the user's failing function is; this pickler keeps the real file name, so a failing
stage is named by file and line.
"""

from __future__ import annotations

import io
import pickle
import types
from collections import ChainMap
from typing import Any

import cloudpickle
from cloudpickle import cloudpickle as _internals

#: The name cloudpickle gives every code object it pickles by value.
DYNAMIC = "<dynamic-code>"


def _code_keeping_file(code: types.CodeType) -> tuple[Any, tuple[Any, ...]]:
    build, args = _internals._code_reduce(code)
    return build, tuple(code.co_filename if a == DYNAMIC else a for a in args)


class Pickler(cloudpickle.Pickler):  # type: ignore[misc]
    """cloudpickle's pickler, keeping code objects' file names."""

    dispatch_table = ChainMap(
        {types.CodeType: _code_keeping_file}, cloudpickle.Pickler.dispatch_table
    )


def dumps(obj: Any) -> bytes:
    """``obj`` pickled as ``cloudpickle.dumps`` does, keeping the user's file names."""
    out = io.BytesIO()
    Pickler(out, protocol=pickle.HIGHEST_PROTOCOL).dump(obj)
    return out.getvalue()


#: The module name a pickle holds when it refers to something of the user's ``__main__``.
_MAIN = b"__main__"


def dumps_fast(obj: Any) -> bytes:
    """``obj`` pickled so that a process without the user's ``__main__`` can load it.

    Plain pickle first (C, over ten times faster than cloudpickle on small values, and
    the same bytes for data). It stores classes and functions by reference, so a pickle
    that names the module ``__main__`` anywhere is made again with :func:`dumps`, which
    carries what ``__main__`` defines by value; so is anything plain pickle refuses (a
    lambda, a local class). The name test can be a false alarm (data that holds the
    text), never a miss: a reference to ``__main__`` writes the module's name.
    """
    try:
        data = pickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL)
    except (pickle.PicklingError, TypeError, AttributeError):
        return dumps(obj)
    return dumps(obj) if _MAIN in data else data
