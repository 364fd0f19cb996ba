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
