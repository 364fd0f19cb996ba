"""Why a job is in its status, in words: above all, why a waiting job does not start.

A job waits silently for many reasons (its eta, no worker on its queue, no worker that
knows its type, a full queue); its status reason names the one that holds it.
"""

from __future__ import annotations

from headrace import defaults
from headrace.model import labels as job_labels
from headrace.model import status as machine
from headrace.model.clock import now_ms
from headrace.model.job import Job
from headrace.model.status import Status
from headrace.store.database import Store
from headrace.store.workers import WorkerRecord, WorkerRepository

S = Status


def status_reason(store: Store, job: Job) -> str:
    """Why ``job`` is in its status."""
    if job.status is S.WAITING:
        return waiting_reason(store, job)
    if job.status is S.LOCKED:  # claimed; held for a slot (prefetch) or starting now
        return f"claimed by worker {job.locked_by}, waiting for one of its slots"
    if job.status is S.RETRYING:
        left = max(0, job.eta_ms - now_ms()) / 1000
        return f"waiting {left:.1f} s for the retry delay after: {job.error}"
    if job.status in (S.SUSPENDED, S.SUSPENDING):
        return job.details or "suspended"
    if job.status in (S.FAILED, S.TIMEOUT):
        return job.error or str(job.status)
    if job.status is S.CANCELED:
        return "canceled by user"
    return str(job.status)


def waiting_reason(store: Store, job: Job) -> str:
    """Why a waiting job has not started: eta, no worker (for its type, its labels), capacity."""
    if job.eta_ms > now_ms():
        return f"scheduled to start in {(job.eta_ms - now_ms()) / 1000:.1f} s"
    workers = WorkerRepository(store)
    alive = now_ms() - int(3 * defaults.LEASE_SEC * 1000)
    serving = [w for w in workers.workers() if job.queue in w.queues and w.heartbeat_ms >= alive]
    if not serving:
        return f"no worker serves queue {job.queue!r}"
    able = [w for w in serving if _knows(w, job.type)]
    if not able:
        known = sorted({t for w in serving for t in w.types or ()})
        return (
            f"no worker serving queue {job.queue!r} knows job type {job.type!r} "
            f"(they run: {', '.join(known) or 'no types'}); start a worker that imports it"
        )
    fit = [w for w in able if job_labels.satisfies(w.labels, job.labels)]
    if not fit:
        return _labels_reason(job, able)
    able = fit
    capacity = sum(w.queues[job.queue] for w in able)
    held = [str(s) for s in machine.HELD]
    busy = sum(n for q, _s, _t, n in workers.count_jobs(None, held) if q == job.queue)
    if busy >= capacity:
        return (
            f"waiting for capacity: queue {job.queue!r} is full ({busy} of {capacity} slots "
            "busy); a slot frees when a job ends, or raise the queue's capacity"
        )
    waiting = f"waiting for one of {len(able)} worker(s) on queue {job.queue!r} to claim it"
    if job.origin is None:
        return waiting
    return (
        f"{waiting}; it was scheduled by the script {job.origin}, and an embedded Client() "
        "takes only its own process's jobs (Client(resume_jobs=True) or a `headrace worker` "
        "takes it)"
    )


def _labels_reason(job: Job, able: list[WorkerRecord]) -> str:
    """No live worker able to run ``job`` offers all the labels it requires: say which."""
    offers = sorted({", ".join(w.labels) or "no labels" for w in able})
    wanted = ",".join(job.labels)
    return (
        f"no live worker serving queue {job.queue!r} offers the labels it requires "
        f"({', '.join(job.labels)}); they offer: {'; '.join(offers)}; start one with "
        f"`headrace worker --labels {wanted}` (a server's or an embedded client's own "
        f"workers: `headrace server --labels {wanted}`, `Client(labels={wanted!r})`)"
    )


def _knows(worker: WorkerRecord, type_id: str) -> bool:
    # A worker that never said which types it runs may run any.
    return worker.types is None or type_id in worker.types
