"""What a worker queues for the store between rounds, and what it writes for a refused write.

The pump takes a ``WriteBuffer``'s writes each round (merged per attempt, so a short
attempt's start and end reach the store as one write); ``gather`` lets attempts that end
together share a round; ``resolution`` decides what a refused end-of-attempt write becomes,
and ``resolve`` writes that.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from headrace import defaults
from headrace.model.status import Status
from headrace.model.writes import AttemptWrite
from headrace.store.attempts import AttemptRepository

S = Status
log = logging.getLogger("headrace.worker")

#: The write that starts an attempt: held back briefly, so a short attempt's start and end
#: reach the store as one write (one UPDATE, the same events).
START = (S.LOCKED, S.RUNNING)


@dataclass
class WriteBuffer:
    """Writes waiting for the next flush; consecutive writes of one attempt are merged."""

    writes: dict[tuple[str, int], list[AttemptWrite]] = field(default_factory=dict)
    logs: list[dict[str, object]] = field(default_factory=list)
    #: When each attempt's first queued write arrived (monotonic seconds).
    since: dict[tuple[str, int], float] = field(default_factory=dict)
    #: The attempts whose queued writes are more than a lone start (``ending``).
    active: set[tuple[str, int]] = field(default_factory=set)

    def add(self, write: AttemptWrite, now: float | None = None) -> None:
        """Queue a write, merged into the attempt's previous one when they chain.

        ``now`` (monotonic) is when it arrived, if the caller has read the clock.
        """
        key = (write.job_id, write.attempt)
        chain = self.writes.get(key)
        if chain is None:
            self.writes[key] = [write]
            self.since[key] = time.monotonic() if now is None else now
            # A new key is not in ``active``: only a queued attempt's key is.
            if write.path != START:
                self.active.add(key)
            return
        last = chain[-1]
        if not last.path or not write.path or last.path[-1] == write.path[0]:
            chain[-1] = last.then(write)
        else:
            chain.append(write)
        if len(chain) == 1 and chain[0].path == START:
            self.active.discard(key)
        else:
            self.active.add(key)

    def ending(self) -> bool:
        """Whether a write other than a lone start (an attempt's end, progress, a log) waits.

        Kept as a set as writes arrive, not found by a scan: the pump asks after every
        report while it gathers a round's ends, under the lock the slots report through,
        and with a few hundred attempts held (``prefetch``) the scan made each round's
        gathering quadratic (230 µs a call at 250 held, cProfile of a SQLite drain).
        """
        return bool(self.logs) or bool(self.active)

    def take(
        self, hold_after: float = float("inf")
    ) -> tuple[list[AttemptWrite], list[dict[str, object]], bool]:
        """Everything queued, in order, leaving the buffer empty.

        A lone start write queued after ``hold_after`` (monotonic) stays queued for the
        next take, so it can merge with the attempt's end.

        Returns:
            The writes, the log lines, and whether any start write was held back.
        """
        writes: list[AttemptWrite] = []
        kept: dict[tuple[str, int], list[AttemptWrite]] = {}
        for key, chain in self.writes.items():
            if len(chain) == 1 and chain[0].path == START and self.since[key] > hold_after:
                kept[key] = chain
            else:
                writes += chain
        logs = self.logs
        self.writes, self.logs = kept, []
        self.since = {k: self.since[k] for k in kept}
        self.active = set()  # what stays is lone starts
        return writes, logs, bool(kept)

    def behind(self, writes: list[AttemptWrite], logs: list[dict[str, object]]) -> WriteBuffer:
        """``writes`` and ``logs`` (taken, not applied), then this buffer's: put back in order."""
        ahead = WriteBuffer()
        for w in writes:
            ahead.add(w)
        ahead.logs = logs + self.logs
        for chain in self.writes.values():
            for w in chain:
                ahead.add(w)
        return ahead


def gather(kick: threading.Event, ending: Callable[[], bool]) -> None:
    """Before a round: while ``ending()``, wait for the next report, briefly.

    ``ending()`` tells whether an attempt's end (or another report) is queued while other
    attempts still run; ``kick`` is set by each report. A round costs about the same for
    one write as for eight (one statement, one commit), and it claims as many jobs as its
    writes freed slots. Started at the first end, it would split the slots of attempts
    that began together into groups that each pay a round per cycle: a job that does any
    I/O (a file write is enough) lets the pump in before its neighbours end, and the
    capacity-8 drain of such jobs took twice the rounds of no-op jobs. So the round waits
    until no report came for ``GATHER_QUIET_SEC``, at most ``GATHER_MAX_SEC`` in all; with
    nothing else running (capacity 1, the last job) it starts at once.
    """
    deadline = time.monotonic() + defaults.GATHER_MAX_SEC
    while ending():
        left = deadline - time.monotonic()
        if left <= 0:
            return
        kick.clear()
        if not kick.wait(min(defaults.GATHER_QUIET_SEC, left)):
            return


def resolution(refused: AttemptWrite, held: tuple[int, Status] | None) -> AttemptWrite | None:
    """What to write instead of a refused end-of-attempt write, if anything.

    The write was refused because the row moved on. If this worker still holds the
    attempt, a user asked to cancel or suspend it meanwhile: honour that request, keeping
    the state the attempt reached. Otherwise the attempt is lost and nothing is written.
    """
    if held is None or held[0] != refused.attempt or not refused.path:
        return None
    keep = {
        k: v for k, v in refused.values.items() if k in ("state", "progress", "progress_details")
    }
    if held[1] is S.CANCELING:
        path, reason = (S.CANCELING, S.CANCELED), "canceled on request"
    elif held[1] is S.SUSPENDING:
        path, reason = (S.SUSPENDING, S.SUSPENDED), "suspended on request"
    else:
        return None
    return AttemptWrite(refused.job_id, refused.tenant_id, refused.attempt, path, keep, reason)


def resolve(attempts: AttemptRepository, refused: list[AttemptWrite]) -> None:
    """Write each refused end-of-attempt write's ``resolution``; log the ones dropped."""
    held = attempts.held()
    fixes = []
    for w in refused:
        fix = resolution(w, held.get(w.job_id))
        if fix is not None:
            fixes.append(fix)
        elif w.path:
            log.warning(
                "job %s attempt %s: late write %s refused (lease lost or job ended)",
                w.job_id,
                w.attempt,
                "->".join(w.path),
            )
    if fixes:
        attempts.apply(fixes)
