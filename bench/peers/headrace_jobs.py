"""Headrace's job types for the queue peer harness (``/work/shared/bench-peers/queues``).

``bench/peers/run.sh`` copies this file into (a copy of) the harness folder, beside the
harness's ``common.py``: the adapter imports it to schedule, and the workers
(``headrace worker --import headrace_jobs``, started by the harness with that folder as
cwd and PYTHONPATH) import it to run.  Each job does exactly what the harness asks of
every library: ``common.noop_body`` / ``common.sleep_body`` (append one line
``enqueued_at started_at finished_at`` to the shared record file; the second sleeps 1 ms
first).
"""

from __future__ import annotations

from typing import Any

import common

from headrace import JobContext, job_type

QUEUE = "qb"
NOOP = "qb.noop"
SLEEP1 = "qb.sleep1"
#: The harness's job names -> Headrace job type ids.
TYPES = {"noop": NOOP, "sleep1": SLEEP1}


@job_type(NOOP, queue=QUEUE)
def noop(ctx: JobContext, params: Any) -> None:
    common.noop_body(params["enq"])


@job_type(SLEEP1, queue=QUEUE)
def sleep1(ctx: JobContext, params: Any) -> None:
    common.sleep_body(params["enq"])
