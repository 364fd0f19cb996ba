"""The overview's stuck jobs: held past their lease, or retried into a storm (both stores)."""

from __future__ import annotations

import uuid

import sqlalchemy

from headrace.model.clock import now_ms
from headrace.scheduler.registry import Registry
from headrace.service.jobs import JobService, Scope
from headrace.service.overview import STORM_RETRIES, OverviewService
from headrace.store import tables
from headrace.store.database import Store


def test_stuck_jobs_are_expired_leases_and_retry_storms_of_the_tenant(store_url: str) -> None:
    store = Store(store_url)
    try:
        registry = Registry()
        registry.decorator("ov.noop", queue="maintenance")(lambda ctx, params: None)
        mine, theirs = Scope(str(uuid.uuid4()), str(uuid.uuid4())), Scope(str(uuid.uuid4()))
        jobs = JobService(store, registry, mine)
        lost, storm, fine, calm, crashy = (
            jobs.schedule("ov.noop", delay_sec=3600) for _ in range(5)
        )
        other = JobService(store, registry, theirs).schedule("ov.noop", delay_sec=3600)
        past, future = now_ms() - 10_000, now_ms() + 60_000
        rows = {
            lost.job_id: {"status": "running", "locked_by": str(uuid.uuid4()),
                          "lease_expires_ms": past},
            fine.job_id: {"status": "running", "locked_by": str(uuid.uuid4()),
                          "lease_expires_ms": future},
            storm.job_id: {"retries": STORM_RETRIES},
            calm.job_id: {"retries": STORM_RETRIES - 1},
            # Its workers kept dying: lost leases count toward a storm too.
            crashy.job_id: {"retries": 1, "lease_losses": STORM_RETRIES - 1},
            other.job_id: {"status": "running", "locked_by": str(uuid.uuid4()),
                           "lease_expires_ms": past},
        }  # fmt: skip
        with store.engine.begin() as conn:
            for job_id, values in rows.items():
                conn.execute(
                    sqlalchemy.update(tables.jobs)
                    .where(tables.jobs.c.job_id == job_id)
                    .values(**values)
                )
        seen = OverviewService(store, mine.tenant_id).overview()
        assert {j.job_id for j in seen.stuck} == {lost.job_id, storm.job_id, crashy.job_id}
        assert seen.counts["running"] == 2 and seen.counts["waiting"] == 3
        assert seen.oldest_waiting_ms == {"maintenance": min(storm.scheduled_at_ms,
                                                             calm.scheduled_at_ms)}  # fmt: skip
    finally:
        store.close()


def test_a_pipeline_that_does_not_load_here_has_no_plan_but_a_reason(store_url: str) -> None:
    from headrace.scheduler.registry import DEFAULT
    from headrace.service import plans
    from headrace.service.pipeline_runner import PIPELINE_JOB_TYPE
    from headrace.service.pipelines import PipelineService

    store = Store(store_url)
    try:
        scope = Scope(str(uuid.uuid4()), str(uuid.uuid4()))
        jobs = JobService(store, DEFAULT, scope)
        garbage = {"pipeline": "bm90IGEgcGlja2xl", "local_parallelism": 3}  # "not a pickle"
        job = jobs.schedule(PIPELINE_JOB_TYPE, garbage, delay_sec=3600)
        plan = plans.plan_of(PipelineService(store, jobs, scope), job.job_id)
        assert plan.vertices == [] and plan.edges == [] and plan.local_parallelism == 3
        assert plan.error is not None and "does not load in this server" in plan.error
    finally:
        store.close()
