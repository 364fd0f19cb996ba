"""Prometheus metrics: jobs by status and type, queue depth, worker heartbeats, HTTP timings.

Job and worker figures are read from the store at scrape time, so every API node of a
cluster reports the same numbers; HTTP figures are this process's. Job figures belong to
tenants: see ``JobCollector`` for who sees them.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Iterator

from prometheus_client import CollectorRegistry, Histogram
from prometheus_client import Counter as PromCounter
from prometheus_client.core import GaugeMetricFamily, Metric, SummaryMetricFamily
from prometheus_client.registry import Collector
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from headrace.model.clock import now_ms
from headrace.service.workers import DEPTH, HELD, WorkerService, alive


class WorkerCollector(Collector):
    """Reads worker heartbeats from the store on every scrape (no tenant's figures)."""

    def __init__(self, workers: WorkerService) -> None:
        self.workers = workers

    def collect(self) -> Iterator[Metric]:
        """The workers' figures as metric families."""
        beat = GaugeMetricFamily(
            "headrace_worker_heartbeat_timestamp_seconds",
            "Last heartbeat of each registered worker",
            labels=["worker_id", "hostname"],
        )
        live = GaugeMetricFamily("headrace_workers_alive", "Workers with a recent heartbeat")
        at = now_ms()
        count = 0
        for w in self.workers.workers():
            beat.add_metric([w.worker_id, w.hostname], w.heartbeat_ms / 1000)
            count += alive(w, at)
        live.add_metric([], count)
        yield from (beat, live)


class JobCollector(Collector):
    """Reads job counts and durations of one tenant (or all) from the store on every scrape.

    These are a tenant's figures (its job types, its queues' load), so ``/metrics``
    shows them only to an admin token (its tenant's) or, on a server started with
    ``--metrics-all-tenants``, summed over every tenant to anyone.
    """

    def __init__(self, workers: WorkerService, tenant_id: str | None) -> None:
        self.workers = workers
        self.tenant_id = tenant_id

    def collect(self) -> Iterator[Metric]:
        """The jobs' figures as metric families."""
        jobs = GaugeMetricFamily(
            "headrace_jobs", "Jobs by queue, type and status", labels=["queue", "type", "status"]
        )
        depth = GaugeMetricFamily(
            "headrace_queue_depth", "Jobs waiting in each queue", labels=["queue"]
        )
        running = GaugeMetricFamily(
            "headrace_queue_running", "Jobs held by workers in each queue", labels=["queue"]
        )
        waiting: Counter[str] = Counter()
        held: Counter[str] = Counter()
        for c in self.workers.job_counts(self.tenant_id):
            jobs.add_metric([c.queue, c.type, c.status], c.count)
            if c.status in DEPTH:
                waiting[c.queue] += c.count
            elif c.status in HELD:
                held[c.queue] += c.count
        for queue in sorted(set(waiting) | set(held)):
            depth.add_metric([queue], waiting[queue])
            running.add_metric([queue], held[queue])
        took = SummaryMetricFamily(
            "headrace_job_attempt_duration_seconds",
            "Run time of ended jobs' last attempts, by type and final status",
            labels=["type", "status"],
        )
        for type_id, status, count, total in self.workers.durations(self.tenant_id):
            took.add_metric([type_id, status], count_value=count, sum_value=total)
        yield from (jobs, depth, running, took)


def job_registry(workers: WorkerService, tenant_id: str | None) -> CollectorRegistry:
    """A registry of the job figures of one tenant (every tenant's if None), for one scrape."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(JobCollector(workers, tenant_id))
    return registry


#: HTTP methods that get their own label value; any other is counted as ``other``, so a
#: client inventing method names cannot grow the series without bound.
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


def method_label(method: str) -> str:
    """``method`` if it is a standard one, else ``other`` (a closed set of label values)."""
    return method if method in METHODS else "other"


class HttpMetrics:
    """ASGI middleware counting requests and timing them by method, route and status."""

    def __init__(self, app: ASGIApp, registry: CollectorRegistry) -> None:
        self.app = app
        self.requests = PromCounter(
            "headrace_http_requests",
            "HTTP requests served",
            ["method", "route", "status"],
            registry=registry,
        )
        self.seconds = Histogram(
            "headrace_http_request_duration_seconds",
            "HTTP request latency",
            ["method", "route"],
            registry=registry,
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Serve one ASGI call."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def tracked(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, tracked)
        finally:
            # The route template (``/jobs/{job_id}``), never the raw path: a closed set.
            route = getattr(scope.get("route"), "path", "unmatched")
            method = method_label(scope["method"])
            self.requests.labels(method, route, str(status)).inc()
            self.seconds.labels(method, route).observe(time.perf_counter() - started)


def registry_for(workers: WorkerService) -> CollectorRegistry:
    """A registry of one app's metrics (not the process-global one)."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(WorkerCollector(workers))
    return registry
