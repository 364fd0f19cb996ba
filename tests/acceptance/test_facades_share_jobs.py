"""A Control Hub script and a watsonx script see the same pipelines, jobs and runs."""

from __future__ import annotations

from typing import Any

from tests_acceptance_support import wait_until

from headrace.controlhub import ControlHub
from headrace.jet.pipeline import Pipeline
from headrace.platform import JobRunState, Platform


def double(x: int) -> int:
    return x * 2


def batch_pipeline() -> Pipeline:
    pipeline = Pipeline.create()
    pipeline.read_from(Pipeline.from_list("numbers", list(range(10)))).map(double).write_to(
        Pipeline.to_list("doubled")
    )
    return pipeline


def test_a_job_of_one_facade_is_a_job_of_the_other(any_client: Any) -> None:
    sch = ControlHub(any_client)
    project = Platform(any_client).projects.get(name="default")

    sch.publish_pipeline(batch_pipeline(), name="Test Pipeline", commit_message="first")
    flow = project.flows.get(name="Test Pipeline")
    job = sch.get_job_builder().build("shared", pipeline=sch.pipelines.get(name="Test Pipeline"))
    sch.add_job(job)
    for _ in range(2):
        sch.start_job(job, wait=True)
        sch.wait_for_job_status(job, "INACTIVE", timeout_sec=60)

    seen = project.jobs.get(name="shared")
    assert seen.job_id == job.job_id and seen.flow_name == flow.name == "Test Pipeline"
    runs = seen.job_runs
    assert [r.run_count for r in runs] == [s.run_count for s in job.history] == [2, 1]
    assert {r.state for r in runs} == {JobRunState.Completed}
    assert [(r.started_at, r.finished_at) for r in runs] == [
        (s.start_time, s.finish_time) for s in job.history
    ]

    # And the other way: a watsonx job, started there, is a Control Hub job with its run.
    other = project.create_job(flow=flow, name="from watsonx", description="made by project")
    run = other.start(name="first run")
    wait_until(lambda: run.refresh_status().state.is_terminal(), 60, "the watsonx run's end")
    found = sch.jobs.get(job_id=other.job_id)
    assert found.job_name == "from watsonx" and found.description == "made by project"
    assert [(s.run_count, s.status) for s in found.history] == [(1, "INACTIVE")]
    assert found.metrics.get(run_count=1).output_count == 10
