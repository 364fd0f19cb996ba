"""Probe: how long each SQLite worker process holds the file's write lock, and its CPU there.

    HR_PROBE_DIR=/tmp/probe PYTHONPATH=bench/probes/sqlite_lock:src \
        python bench/queue.py --n 10000 --repeat 1 --capacities 50 --stores sqlite

Put on ``PYTHONPATH``, this file is imported at start-up by every Python process (the
queue benchmark's ``headrace worker`` children too); in a ``worker`` process, with
``HR_PROBE_DIR`` set, it wraps the driver transaction (``sqlite_transaction.Transaction``)
when that module is first imported and writes ``<pid>.json`` to the folder every 50
transactions and at exit: ``n`` transactions, ``in_lock_wall`` (``BEGIN IMMEDIATE`` done
-> ``COMMIT`` done, seconds), ``in_lock_cpu`` (the pump thread's CPU over the same span),
``wait`` (time spent getting the lock), ``max`` (the longest hold). Wall well above CPU
would mean the lock holder waits for the GIL (the slot threads) or the OS while holding
the lock. A hook, not code in Headrace: it measures, it changes nothing.
"""

from __future__ import annotations

import atexit
import json
import os
import sys
import threading
import time
from typing import Any

TARGET = "headrace.store.dialects.sqlite_transaction"


def _install(module: Any) -> None:
    enter, leave = module.Transaction.__enter__, module.Transaction.__exit__
    spent: dict[str, float] = {"n": 0, "in_lock_wall": 0.0, "in_lock_cpu": 0.0, "wait": 0.0}
    spent["max"] = 0.0
    local = threading.local()
    out = os.path.join(os.environ["HR_PROBE_DIR"], f"{os.getpid()}.json")

    def dump() -> None:
        with open(out, "w") as f:
            json.dump(spent, f)

    def timed_enter(self: Any) -> Any:
        t0 = time.perf_counter()
        conn = enter(self)
        local.wall, local.cpu = time.perf_counter(), time.thread_time()
        spent["wait"] += local.wall - t0
        return conn

    def timed_exit(self: Any, *exc: Any) -> None:
        try:
            leave(self, *exc)
        finally:
            held = time.perf_counter() - local.wall
            spent["n"] += 1
            spent["in_lock_wall"] += held
            spent["in_lock_cpu"] += time.thread_time() - local.cpu
            spent["max"] = max(spent["max"], held)
            if spent["n"] % 50 == 0:
                dump()

    module.Transaction.__enter__, module.Transaction.__exit__ = timed_enter, timed_exit
    atexit.register(dump)


if os.environ.get("HR_PROBE_DIR") and "worker" in sys.argv:
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    from import_hook import after_import

    after_import({TARGET: _install})
