"""The warm pool of engine worker processes: started ahead, kept between runs, stopped.

Worker processes come from a fork server that has already imported the engine (and
the modules callers ask for, such as the store provider's), so a new worker costs a
fork, not an interpreter start and its imports. One idle pool is kept per process: a
run takes it (or starts one), and gives it back when it ends well; a run that fails
or stops early discards it. ``warm`` starts a pool in a background thread, so that the
first run at parallelism above 1 finds its workers ready instead of paying their start
(about a second: the fork server's imports) itself.
"""

from __future__ import annotations

import atexit
import logging
import multiprocessing
import multiprocessing.util
import os
import threading
import time
from collections.abc import Iterable
from typing import Any

from headrace import children
from headrace.engine.executors import worker_loop

__all__ = [
    "Pool",
    "WorkerCrashed",
    "acquire",
    "check_alive",
    "idle",
    "preload",
    "release",
    "shutdown",
    "warm",
]

#: How long a finished worker may take to exit before it is terminated.
JOIN_SEC = 5.0
#: Ticket counters a pool has at least (one per source vertex of a run).
TICKET_SLOTS = 16
#: What the fork server imports before it forks the first worker.
_PRELOAD = ["headrace.engine.executors.worker_loop", "cloudpickle"]

_log = logging.getLogger(__name__)


class WorkerCrashed(RuntimeError):
    """A worker process died without reporting (killed, out of memory)."""


def check_alive(procs: list[Any], waiting: set[int]) -> None:
    """Raises ``WorkerCrashed`` if a worker the run still waits for has died.

    Raises:
        WorkerCrashed: worker ``i`` of ``waiting`` is not alive.
    """
    for i in waiting:
        if not procs[i].is_alive():
            time.sleep(worker_loop.POLL_SEC)  # its last message may still be in the pipe
            msg = f"worker {i} died (exit code {procs[i].exitcode})"
            raise WorkerCrashed(msg)


def _context() -> Any:
    """Pool processes come from a fork server (or are spawned), never import ``__main__``."""
    if "forkserver" in multiprocessing.get_all_start_methods():
        ctx = children.context_for("forkserver")
        with _lock:
            ctx.set_forkserver_preload(list(_PRELOAD))
        return ctx
    return children.context_for("spawn")


class Pool:
    """Worker processes with their inboxes, the shared results queue and split tickets."""

    def __init__(self, size: int, slots: int = TICKET_SLOTS) -> None:
        ctx = _context()
        self.pid = os.getpid()
        self.runs = 0
        self.tickets = ctx.Array("q", max(slots, TICKET_SLOTS))
        self.inboxes = [ctx.Queue() for _ in range(size)]
        self.results = ctx.Queue()
        #: The snapshot barrier's answers, apart from the results (see ``messages``).
        self.control = ctx.Queue()
        for q in (*self.inboxes, self.results, self.control):
            q.cancel_join_thread()  # never block the interpreter's exit on a dead reader
        self.procs = [
            ctx.Process(
                target=worker_loop.pool_main,
                args=(i, self.inboxes, self.results, self.control, self.tickets),
                name=f"headrace-worker-{i}",
                daemon=True,
            )
            for i in range(size)
        ]
        for p in self.procs:
            p.start()

    def fits(self, size: int, slots: int) -> bool:
        """True if this process started the pool, it is big enough and all alive."""
        return (
            self.pid == os.getpid()
            and len(self.procs) >= size
            and len(self.tickets) >= slots
            and all(p.is_alive() for p in self.procs)
        )

    def reset_tickets(self) -> None:
        """Zeroes the split tickets for a new run (no worker is running one now)."""
        with self.tickets.get_lock():
            raw = self.tickets.get_obj()
            for i in range(len(raw)):
                raw[i] = 0

    def close(self) -> None:
        """Stops the workers (at once: a failed run may have left one busy).

        A worker that ignores SIGTERM is killed after ``JOIN_SEC``, or at once if the
        wait is interrupted (a scheduler worker raises ``ExecutionKilled`` in a thread
        that outlives its stop's grace): a stopped run leaves no process behind.
        """
        if self.pid != os.getpid():
            return
        try:
            for p in self.procs:
                if p.is_alive():
                    p.terminate()
            for p in self.procs:
                p.join(timeout=JOIN_SEC)
                if p.is_alive():
                    p.kill()
                    p.join()
        except BaseException:
            for p in self.procs:
                if p.is_alive():
                    p.kill()
            raise
        for q in (*self.inboxes, self.results, self.control):
            q.close()


_lock = threading.Lock()
_idle: Pool | None = None
_warming: threading.Thread | None = None


def preload(modules: Iterable[str]) -> None:
    """Has the fork server import ``modules`` too, if it has not started yet.

    A module of the user's ``__main__`` is left out: pool processes never import it.
    """
    with _lock:
        for name in modules:
            if name not in _PRELOAD and name.split(".")[0] not in ("__main__", "__mp_main__"):
                _PRELOAD.append(name)


def warm(size: int, modules: Iterable[str] = ()) -> None:
    """Starts a pool of ``size`` workers in the background, unless one is idle or starting.

    ``modules`` are imported once by the fork server (see ``preload``), so that the
    workers have them when the first run's payload needs them. Failing to start is
    only logged: the first run starts its pool itself, and reports what goes wrong.
    """
    global _warming
    preload(modules)
    with _lock:
        if _idle is not None or _warming is not None:
            return
        thread = threading.Thread(
            target=_start_idle, args=(size,), name="headrace-pool-warm", daemon=True
        )
        _warming = thread
    thread.start()


def _start_idle(size: int) -> None:
    global _idle, _warming
    pool: Pool | None = None
    try:
        pool = Pool(size)
    except Exception:
        _log.debug("could not start the engine's worker pool ahead", exc_info=True)
    with _lock:
        _warming = None
        kept = pool is not None and _idle is None
        if kept:
            _idle = pool
    if pool is not None and not kept:
        pool.close()


def acquire(size: int, slots: int) -> Pool:
    """The idle pool if it fits (a concurrent run gets a new one), else a new pool.

    A pool being started ahead (``warm``) is waited for rather than started twice.
    """
    global _idle
    _settle()
    with _lock:
        pool, _idle = _idle, None
    if pool is not None:
        if pool.fits(size, slots):
            return pool
        pool.close()
    return Pool(size, slots)


def release(pool: Pool) -> None:
    """Keeps ``pool`` for the next run (one idle pool at most)."""
    global _idle
    with _lock:
        kept = _idle is None
        if kept:
            _idle = pool
    if not kept:
        pool.close()


def idle() -> Pool | None:
    """The pool kept for the next run, if any, once one being started ahead is up."""
    _settle()
    return _idle


def _settle() -> None:
    """Waits for a pool being started ahead (``warm``), if any."""
    with _lock:
        starting = _warming
    if starting is not None:
        starting.join()


def shutdown() -> None:
    """Stops the idle worker processes, if any (they also leave with this process)."""
    global _idle
    _settle()
    with _lock:
        pool, _idle = _idle, None
    if pool is not None:
        pool.close()


# At the interpreter's exit, before multiprocessing's own handler (imported above, so
# registered before this one, and run after it: handlers run last first): that one
# removes the queues' semaphores first, so a pool still starting as a script ended left
# children that printed a FileNotFoundError after the script had exited. An embedded
# client registers its own exit handler after this one (``client.embedded``), so its
# jobs are stopped before their pool goes.
atexit.register(shutdown)
