"""A job's runs and what each keeps: status, events, logs, metrics, the realtime summary.

``RunRecords`` is mixed into ``client.jobs``. A run's events and log lines are read a
page at a time, filtered by status (events) or level (logs) and by time; its metrics
(counts and rates per stage, batches with and without data) are kept after it ends.
"""

from __future__ import annotations

import builtins
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from headrace import defaults, errors
from headrace.model import status as machine
from headrace.model.clock import now_ms
from headrace.model.controlplane import Run
from headrace.model.job import Job, JobEvent, JobLogLine
from headrace.service import catalog
from headrace.store.database import Store
from headrace.store.runs import RunRepository, Window


def _names(field: str, value: str | Sequence[str] | None) -> builtins.list[str]:
    if value is None:
        return []
    names = value.split(",") if isinstance(value, str) else list(value)
    if not all(isinstance(n, str) for n in names):
        raise errors.InvalidInput(field, f"must be names, got {value!r}")
    return [n.strip() for n in names if n.strip()]


def _window(
    kinds: builtins.list[str], since_ms: int | None, until_ms: int | None, page: int, limit: int
) -> Window:
    catalog.check_page(page, limit)
    for field, value in (("since_ms", since_ms), ("until_ms", until_ms)):
        if value is not None and (not isinstance(value, int) or value < 0):
            raise errors.InvalidInput(field, f"must be epoch milliseconds >= 0, got {value!r}")
    return Window(tuple(kinds), since_ms, until_ms, page, limit)


class RunRecords:
    """One tenant's job runs, read (mixed into the job service)."""

    store: Store
    scope: Any
    get: Callable[[str], Job]

    @property
    def run_repo(self) -> RunRepository:
        """The tenant's definitions and runs in the store."""
        return RunRepository(self.store, self.scope.tenant_id)

    def runs(
        self,
        job_id: str,
        *,
        status: str | Sequence[str] | None = None,
        since_ms: int | None = None,
        until_ms: int | None = None,
        page: int = 1,
        limit: int = 50,
    ) -> builtins.list[Run]:
        """The job's runs, newest first, filtered by status and start time, paged.

        Raises:
            NotFound: no such job. InvalidInput: naming ``status``, ``page`` or ``limit``.
        """
        _window([], since_ms, until_ms, page, limit)  # checks the arguments
        wanted = {machine.parse(n) for n in _names("status", status)}
        runs = [
            r
            for r in self.run_repo.runs(self.get(job_id))
            if (not wanted or r.status in wanted)
            and (since_ms is None or r.started_at_ms >= since_ms)
            and (until_ms is None or r.started_at_ms < until_ms)
        ]
        return runs[(page - 1) * limit : page * limit]

    def run(self, job_id: str, run_count: int) -> Run:
        """One run of the job. Raises: NotFound (naming the run)."""
        for found in self.run_repo.runs(self.get(job_id)):
            if found.run_count == run_count:
                return found
        raise errors.NotFound("run", f"{job_id}#{run_count}")

    def run_events(
        self,
        job_id: str,
        run_count: int,
        *,
        status: str | Sequence[str] | None = None,
        since_ms: int | None = None,
        until_ms: int | None = None,
        page: int = 1,
        limit: int = defaults.MAX_PAGE_LIMIT,
    ) -> builtins.list[JobEvent]:
        """One run's status changes, oldest first: those to ``status``, in a time range, paged.

        Raises:
            NotFound: no such job or run.
            InvalidInput: naming ``status``, ``since_ms``, ``until_ms``, ``page`` or ``limit``.
        """
        statuses = [str(machine.parse(n)) for n in _names("status", status)]
        window = _window(statuses, since_ms, until_ms, page, limit)
        job = self.get(job_id)
        after, upto, _, _ = self.run_repo.bounds(job, run_count)
        return self.run_repo.events(job_id, after, upto, window)

    def run_logs(
        self,
        job_id: str,
        run_count: int,
        *,
        level: str | Sequence[str] | None = None,
        since_ms: int | None = None,
        until_ms: int | None = None,
        page: int = 1,
        limit: int = defaults.MAX_PAGE_LIMIT,
    ) -> builtins.list[JobLogLine]:
        """One run's log lines, oldest first: of ``level``, in a time range, paged.

        Raises:
            NotFound: no such job or run.
            InvalidInput: naming ``level``, ``since_ms``, ``until_ms``, ``page`` or ``limit``.
        """
        window = _window(_names("level", level), since_ms, until_ms, page, limit)
        job = self.get(job_id)
        _, _, after, upto = self.run_repo.bounds(job, run_count)
        return self.run_repo.logs(job_id, after, upto, window)

    def run_metrics(self, job_id: str, run_count: int) -> dict[str, Any]:
        """One run's metrics (a pipeline run's counts and rates per stage; kept after it ends).

        ``input_count`` (records read by sources), ``output_count`` (records written by
        sinks), ``error_count``, ``batch_count`` and ``idle_batch_count`` (source polls
        with and without records) and ``stages``. Raises: NotFound.
        """
        found = self.run(job_id, run_count)
        return summarize(found.metrics, _elapsed_ms(found))

    def summary(self, job_id: str) -> dict[str, Any]:
        """The realtime summary of the current run (its live metrics). Raises: NotFound."""
        job = self.get(job_id)
        if job.run_count < 1:
            return {**summarize(None, 0), "run_count": 0, "status": str(job.status)}
        current = self.run(job_id, job.run_count)
        return {
            **summarize(current.metrics, _elapsed_ms(current)),
            "run_count": job.run_count,
            "status": str(job.status),
        }


def _elapsed_ms(run: Run) -> int:
    end = run.finished_at_ms if run.finished_at_ms is not None else now_ms()
    return max(0, end - run.started_at_ms)


def _rate(count: int, elapsed_ms: int) -> float:
    return 0.0 if elapsed_ms <= 0 else round(count * 1000 / elapsed_ms, 3)


def summarize(metrics: Mapping[str, Any] | None, elapsed_ms: int) -> dict[str, Any]:
    """Run metrics in the control plane's terms: inputs, outputs, errors, batches, stages.

    Each stage gets its records per second over the run's ``elapsed_ms``
    (``received_per_sec``, ``emitted_per_sec``).
    """
    stages: dict[str, Any] = {
        name: {
            **stage,
            "idle_batches": int(stage.get("idle_batches", 0)),
            "received_per_sec": _rate(int(stage.get("received", 0)), elapsed_ms),
            "emitted_per_sec": _rate(int(stage.get("emitted", 0)), elapsed_ms),
        }
        for name, stage in dict((metrics or {}).get("stages") or {}).items()
    }
    sources = [s for s in stages.values() if s.get("kind") == "source"]
    sinks = [s for s in stages.values() if s.get("kind") == "sink"]
    return {
        "input_count": sum(int(s.get("emitted", 0)) for s in sources),
        "output_count": sum(int(s.get("received", 0)) for s in sinks),
        "error_count": int((metrics or {}).get("error_count", 0)),
        "batch_count": sum(int(s.get("batches", 0)) for s in sources),
        "idle_batch_count": sum(s["idle_batches"] for s in sources),
        "received_count": int((metrics or {}).get("received_count", 0)),
        "emitted_count": int((metrics or {}).get("emitted_count", 0)),
        "elapsed_ms": elapsed_ms,
        "stages": stages,
    }
