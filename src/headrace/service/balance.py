"""Balancing: move running streaming pipeline jobs from the most to the least loaded workers.

A move is a suspend (the job's worker commits a snapshot: offsets, state and, for an
exactly-once job, its sink writes, in one transaction), a placement (only the chosen
worker may claim the job, for a while), and a resume (the chosen worker restores the
snapshot). So a moved exactly-once job loses and duplicates nothing, as across any
suspend and resume. The plan evens out the count of streaming jobs per worker, among
the live workers that serve the streaming queue, offer the job's labels and have room.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from headrace import defaults, errors
from headrace.model import labels as job_labels
from headrace.model.clock import now_ms
from headrace.service.jobs import JobService
from headrace.service.workers import alive
from headrace.store.workers import WorkerRecord, WorkerRepository

#: How long a suspend may take before balancing gives the job back where it was.
SUSPEND_WAIT_SEC = 60.0


@dataclass(frozen=True, slots=True)
class Move:
    """One job moved (or planned to move) from one worker to another."""

    job_id: str
    from_worker: str
    to_worker: str


def plan(
    workers: Sequence[WorkerRecord], running: Sequence[tuple[str, str, tuple[str, ...]]]
) -> list[Move]:
    """The moves that even out the workers' streaming jobs (a difference of at most one).

    Each step takes a job from the worker holding the most to the one holding the fewest
    that serves the streaming queue with room for it and offers the job's labels.
    """
    room = {w.worker_id: w.queues.get(defaults.STREAM_QUEUE, 0) for w in workers}
    offered = {w.worker_id: w.labels for w in workers}
    held: dict[str, list[tuple[str, tuple[str, ...]]]] = {w: [] for w in room}
    for job_id, worker_id, required in running:
        if worker_id in held:
            held[worker_id].append((job_id, required))
    moves: list[Move] = []
    while True:
        source = max(held, key=lambda w: (len(held[w]), w), default=None)
        if source is None:
            return moves
        step = _step(source, held, room, offered)
        if step is None:
            return moves
        (job_id, required), target = step
        held[source].remove((job_id, required))
        held[target].append((job_id, required))
        moves.append(Move(job_id, source, target))


def _step(
    source: str,
    held: dict[str, list[tuple[str, tuple[str, ...]]]],
    room: dict[str, int],
    offered: dict[str, tuple[str, ...]],
) -> tuple[tuple[str, tuple[str, ...]], str] | None:
    """A job of ``source`` and a worker to take it that evens the counts, or None."""
    for job in held[source]:
        targets = [
            w
            for w in held
            if len(held[w]) + 1 < len(held[source])
            and len(held[w]) < room[w]
            and job_labels.satisfies(offered[w], job[1])
        ]
        if targets:
            return job, min(targets, key=lambda w: (len(held[w]), w))
    return None


class Balancer:
    """Plans and makes the moves for one tenant's streaming pipeline jobs."""

    def __init__(self, jobs: JobService, lease_sec: float = defaults.LEASE_SEC) -> None:
        self.jobs = jobs
        self.repo = WorkerRepository(jobs.store)
        self.lease_sec = lease_sec

    def balance(self, worker_ids: Sequence[str] | None = None) -> list[Move]:
        """Move running streaming jobs from the most to the least loaded of ``worker_ids``.

        Args:
            worker_ids: the workers to balance among (None: every live worker).

        Returns:
            The moves made, in order.

        Raises:
            NotFound: ``worker_ids`` names a worker that is not registered and live.
            TimeoutException: a job did not suspend in time (it is resumed where it was).
        """
        at = now_ms()
        live = [w for w in self.repo.workers() if alive(w, at)]
        if worker_ids is not None:
            known = {w.worker_id for w in live}
            for named in worker_ids:
                if str(named) not in known:  # not registered, or not heartbeating
                    raise errors.NotFound("live worker", str(named))
            chosen = {str(w) for w in worker_ids}
            live = [w for w in live if w.worker_id in chosen]
        running = self.repo.running_on(self.jobs.scope.tenant_id, defaults.STREAM_QUEUE)
        moves = plan(live, running)
        for move in moves:
            self.jobs.suspend(
                move.job_id, f"balancing: moving from worker {move.from_worker} to {move.to_worker}"
            )
        for move in moves:
            self._finish(move)
        return moves

    def _finish(self, move: Move) -> None:
        """Wait for the job's snapshot and suspension, place it on the target, resume it."""
        try:
            self.jobs.wait(move.job_id, SUSPEND_WAIT_SEC)
        finally:
            until = now_ms() + int(2 * self.lease_sec * 1000)
            if self.repo.place(self.jobs.scope.tenant_id, move.job_id, move.to_worker, until):
                self.jobs.resume(move.job_id, f"balancing: resumed on worker {move.to_worker}")
