"""Child processes that never import the parent's ``__main__`` (engine pool, isolation).

Python's ``spawn`` and ``forkserver`` children run the parent's main script again (as
``__mp_main__``) before they unpickle their target: a user script without an ``if
__name__ == "__main__":`` guard would re-run its top level (make clients, submit jobs) in
every child, and a script read from stdin could not start children at all. Headrace's
children need nothing from the user's main: the engine ships plans and user code with
cloudpickle, which carries what ``__main__`` defines by value. So the contexts here
start children whose preparation data leaves ``__main__`` out.

Private stdlib detail (CPython 3.11): each start method's ``Popen._launch`` takes the
preparation data from ``multiprocessing.spawn.get_preparation_data``, through the
``spawn`` name in its module's globals, and the child runs ``spawn.prepare`` on it, which
imports the main only for the keys ``init_main_from_name`` and ``init_main_from_path``.
The Popen classes here run the stdlib's own ``_launch`` code with ``spawn`` bound to a
view of that module whose ``get_preparation_data`` drops those two keys; everything else
about launching stays the stdlib's. ``tests/unit/test_children.py`` pins both details.
"""

from __future__ import annotations

import multiprocessing
import types
from multiprocessing import context, popen_forkserver, popen_spawn_posix, spawn
from typing import Any, Literal, overload

__all__ = [
    "MAIN_KEYS",
    "ForkServerProcess",
    "SpawnProcess",
    "context_for",
    "preparation_data",
]

#: The keys of the preparation data that make a child import the parent's ``__main__``.
MAIN_KEYS = ("init_main_from_name", "init_main_from_path")


def preparation_data(name: str) -> dict[str, Any]:
    """The stdlib's preparation data for a child named ``name``, without the main."""
    data: dict[str, Any] = spawn.get_preparation_data(name)
    for key in MAIN_KEYS:
        data.pop(key, None)
    return data


class _SpawnWithoutMain:
    """``multiprocessing.spawn`` as a ``_launch`` sees it, with the main left out."""

    get_preparation_data = staticmethod(preparation_data)

    def __getattr__(self, name: str) -> Any:
        return getattr(spawn, name)


def _without_main(launch: Any) -> Any:
    """The stdlib function ``launch``, reading ``spawn`` from :class:`_SpawnWithoutMain`."""
    scope = dict(launch.__globals__, spawn=_SpawnWithoutMain())
    return types.FunctionType(
        launch.__code__, scope, launch.__name__, launch.__defaults__, launch.__closure__
    )


class _SpawnPopen(popen_spawn_posix.Popen):
    _launch = _without_main(popen_spawn_posix.Popen._launch)  # type: ignore[attr-defined]


class _ForkServerPopen(popen_forkserver.Popen):
    _launch = _without_main(popen_forkserver.Popen._launch)  # type: ignore[attr-defined]


# The Process classes are pickled by reference into each child: they live at module level.
class SpawnProcess(context.SpawnProcess):
    """A spawned child that does not import the parent's ``__main__``."""

    @staticmethod
    def _Popen(process_obj: Any) -> Any:
        return _SpawnPopen(process_obj)


class ForkServerProcess(context.ForkServerProcess):
    """A child of the fork server that does not import the parent's ``__main__``."""

    @staticmethod
    def _Popen(process_obj: Any) -> Any:
        return _ForkServerPopen(process_obj)


class _SpawnContext(context.SpawnContext):
    Process = SpawnProcess


class _ForkServerContext(context.ForkServerContext):
    Process = ForkServerProcess


@overload
def context_for(method: Literal["spawn"]) -> context.SpawnContext: ...


@overload
def context_for(method: Literal["forkserver"]) -> context.ForkServerContext: ...


def context_for(
    method: Literal["spawn", "forkserver"],
) -> context.SpawnContext | context.ForkServerContext:
    """A multiprocessing context of ``method`` whose children skip the parent's main.

    Its ``Process``, ``Queue``, ``Pipe``, ``Array`` work as the stdlib context's do.

    Raises:
        ValueError: ``method`` is not available on this platform.
    """
    if method not in multiprocessing.get_all_start_methods():
        msg = f"start method {method!r} is not available here"
        raise ValueError(msg)
    if method == "forkserver":
        return _ForkServerContext()
    return _SpawnContext()
