"""Probe: a worker's drain rate if its rounds wrote no ``job_events`` rows (an upper bound).

    HR_PROBE_NO_EVENTS=1 PYTHONPATH=bench/probes/no_round_events:src \
        python bench/queue.py --n 10000 --repeat 1 --capacities 8 --stores postgresql

Put on ``PYTHONPATH``, this file is imported at start-up by every Python process; in a
``worker`` process, with ``HR_PROBE_NO_EVENTS`` set, it makes the common round of both
stores insert no events: on PostgreSQL each round's event SELECT gets ``WHERE false`` (the
INSERT still runs, with no rows), on SQLite the round's event list is empty. Everything
else a round does (the fenced UPDATE, the claim, the commit) is unchanged.

It answers one question before any data-model change is built: how much of a drain's time
is the event rows (``waiting -> locked`` at the claim, ``locked -> running -> completed`` at
the write: three rows a job)? A job's events are then missing, so it is a measurement,
never a mode of Headrace: nothing in ``src/`` reads this variable.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from typing import Any


def _pg(module: Any) -> None:
    from sqlalchemy import false

    events = module._events

    def no_rows(*args: Any, **kwargs: Any) -> Any:
        return events(*args, **kwargs).where(false())

    module._events = no_rows


def _sqlite(module: Any) -> None:
    module._events = lambda *args, **kwargs: []


TARGETS: dict[str, Callable[[Any], None]] = {
    "headrace.store.pg_round": _pg,
    "headrace.store.sqlite_round": _sqlite,
}


if os.environ.get("HR_PROBE_NO_EVENTS") and "worker" in sys.argv:
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    from import_hook import after_import

    after_import(TARGETS)
