"""The 1 ms job type of the scale benchmark (imported by ``headrace worker --import``)."""

from __future__ import annotations

import time
from typing import Any

from bench import jobs_noop

from headrace import JobContext, job_type

TYPE = "bench.sleep1ms"


@job_type(TYPE, queue=jobs_noop.QUEUE)
def sleep_1ms(ctx: JobContext, params: Any) -> None:
    """Sleep one millisecond: a job that waits (I/O-like) rather than computes."""
    time.sleep(0.001)
