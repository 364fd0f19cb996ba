"""The worker's control poll: what the store holds for each attempt the worker runs.

Every ``CONTROL_POLL_SEC`` while attempts run, the pump reads the jobs its worker holds,
their status and control requests, in one query (``AttemptRepository.holdings``), and
``apply`` passes the answer on to the running attempts: a lost lease, a cancel or suspend
request, a restart, the snapshot exports pending; and ends those past their deadline.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from headrace.model.status import Status
from headrace.scheduler import runner
from headrace.scheduler.attempt import Attempt

S = Status
#: What the store holds for a job: attempt, status, control requests (or None).
Holding = tuple[int, Status, dict[str, Any] | None]


def apply(
    running: Sequence[Attempt],
    holdings: Mapping[str, Holding],
    now: float,
    time_out: Callable[[Attempt], None],
) -> None:
    """Tell each running attempt what ``holdings`` (read after ``running``) say of it.

    An attempt whose job the worker no longer holds at that attempt lost its lease (the
    reaper or a user took it back): it is asked to stop. One whose job is being canceled
    or suspended is asked to stop for that; one past its deadline (``now``, monotonic) is
    handed to ``time_out``. Then its control requests: the exports pending (none when the
    job has none, so an export committed since is forgotten), and a restart.
    """
    for a in running:
        c, ctx = a.claimed, a.ctx
        found = holdings.get(c.job_id)
        if found is None or found[0] != c.attempt:
            if not a.ended:
                ctx.request_stop("lost")
            ctx.request_exports([])
            continue
        status, control = found[1], found[2]
        if status is S.CANCELING and not ctx.cancelled:
            ctx.request_stop("cancel")
            runner.notify_state(a.instance, ctx, str(S.CANCELING))
        elif status is S.SUSPENDING and not ctx.cancelled:
            ctx.request_stop("suspend")
            runner.notify_state(a.instance, ctx, str(S.SUSPENDING))
        elif now >= a.deadline and not a.ended:
            time_out(a)
        if control is None:
            ctx.request_exports([])
            continue
        ctx.request_exports(list(control.get("export", [])))
        if control.get("restart") and not ctx.cancelled:
            ctx.request_stop("restart")
