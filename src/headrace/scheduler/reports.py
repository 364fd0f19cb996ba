"""What a worker's attempts report, queued for its pump: the worker's ``AttemptSink``.

Slots queue start and end writes, jobs their progress and log lines, the pump its
timeouts; the pump takes them all each round (``WriteBuffer``) and writes them in its
transaction. The queue shares the worker's lock, which also guards its table of held
attempts (``slots.Slots``), so a claim registers its attempts and queues their start writes
at once.
"""

from __future__ import annotations

import logging
import threading
import time

from headrace import defaults
from headrace.model import text
from headrace.model.clock import now_ms
from headrace.model.writes import AttemptWrite
from headrace.scheduler.context import JobContext
from headrace.scheduler.writebuffer import WriteBuffer
from headrace.store import codec

job_log = logging.getLogger("headrace.job")


class Reports:
    """The writes and log lines a worker's attempts queued and its pump has not taken.

    ``kick`` tells the pump there is something to write; ``lock`` is the worker's.
    """

    def __init__(self, lock: threading.Lock, kick: threading.Event) -> None:
        self.lock = lock
        self.kick = kick
        #: Guarded by ``lock``; the worker adds a claim's start writes under it.
        self.buffer = WriteBuffer()
        #: Whether start writes wait in the buffer, held back to merge with their
        #: attempts' ends: the pump comes back for them within the flush interval.
        self.held = False

    # -- AttemptSink --------------------------------------------------------------------

    def progress(self, ctx: JobContext, value: float, details: str | None) -> None:
        """Queue a progress write (with the job's state) for the next flush."""
        values: dict[str, object] = {"progress": value, "state": codec.dumps(ctx.state, "state")}
        if details is not None:
            values["progress_details"] = details
        self.queue(AttemptWrite(ctx.job_id, ctx.tenant_id, ctx.attempt, (), values))

    def log(self, ctx: JobContext, level: str, message: str, stored: str | None = None) -> None:
        """Log a job's line and queue it (or the longer ``stored``) for the job's stored log."""
        job_log.log(
            logging.getLevelNamesMapping().get(level.upper(), logging.INFO),
            "[%s] %s",
            ctx.job_id,
            message,
            extra={"job_id": ctx.job_id, "job_type": ctx.type},
        )
        line = message if stored is None else f"{message}\n{stored}"
        row: dict[str, object] = {
            "job_id": ctx.job_id,
            "tenant_id": ctx.tenant_id,
            "at_ms": now_ms(),
            "level": level.lower(),
            # Lines come from the job's context (checked) and from here: escape them all.
            "message": text.escaped(line, defaults.MAX_LOG_LINE_CHARS + defaults.MAX_ERROR_CHARS),
            "attempt": ctx.attempt,
        }
        with self.lock:
            self.buffer.logs.append(row)
        self.kick.set()

    # -- the worker's side --------------------------------------------------------------

    def queue(self, write: AttemptWrite) -> None:
        """Queue a write for the pump's next round, and wake the pump."""
        with self.lock:
            self.buffer.add(write)
        # The pump clears the kick before it takes the buffer: if the kick is still set,
        # the next take sees this write, and setting it again costs a lock and a notify.
        if not self.kick.is_set():
            self.kick.set()

    def add_locked(self, write: AttemptWrite) -> None:
        """Queue a write, the caller holding ``lock``; it then calls ``tell``."""
        self.buffer.add(write)

    def tell(self) -> None:
        """Wake the pump for what ``add_locked`` queued (as ``queue`` does)."""
        if not self.kick.is_set():
            self.kick.set()

    def queue_claimed(self, writes: list[AttemptWrite], started: bool) -> None:
        """Queue a claim's writes: starts (if it ``started`` attempts) and bad-params fails.

        The pump, which claims, comes back for held starts on its own. Called before a
        slot can see the claim, so that a slot starting one of it later needs no kick.
        """
        now = time.monotonic()
        with self.lock:
            add = self.buffer.add
            for w in writes:
                add(w, now)
            self.held = self.held or started

    def ending(self) -> bool:
        """Whether a write other than a lone start (an end, progress, a log) waits."""
        with self.lock:
            return self.buffer.ending()

    def queue_start(self, write: AttemptWrite) -> None:
        """Queue a start write made as a slot took its attempt (``prefetch``).

        It is held back briefly to merge with the attempt's end (``WriteBuffer.take``);
        if the pump knew of no such write, it is told, so that it comes back for this one
        within the flush interval rather than its idle wait.
        """
        with self.lock:
            self.buffer.add(write)
            told, self.held = self.held, True
        if not told:
            self.kick.set()

    def take(
        self, hold_after: float = float("inf")
    ) -> tuple[list[AttemptWrite], list[dict[str, object]]]:
        """Everything queued, but lone start writes queued after ``hold_after``."""
        with self.lock:
            writes, logs, self.held = self.buffer.take(hold_after)
        return writes, logs

    def requeue(self, writes: list[AttemptWrite], logs: list[dict[str, object]]) -> None:
        """Put back writes that failed to apply, in order, ahead of anything newer."""
        with self.lock:
            self.buffer = self.buffer.behind(writes, logs)
