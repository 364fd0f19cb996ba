"""The no-op job type of the queue benchmark (imported by ``headrace worker --import``)."""

from __future__ import annotations

from typing import Any

from headrace import JobContext, job_type

TYPE = "bench.noop"
QUEUE = "bench"


@job_type(TYPE, queue=QUEUE)
def noop(ctx: JobContext, params: Any) -> None:
    """Do nothing: the drain rate is then the queue's own overhead."""
    return None
