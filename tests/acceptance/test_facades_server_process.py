"""Both facades against a real ``headrace server`` process, by URL and token."""

from __future__ import annotations

from pathlib import Path

import pytest
import worker_jobs
from test_server_process import free_port, headrace, start, stop

from headrace.controlhub import ControlHub
from headrace.jet.pipeline import Pipeline
from headrace.platform import JobRunState, Platform

pytestmark = pytest.mark.slow


def test_controlhub_and_platform_by_url_and_token(store_url: str, tmp_path: Path) -> None:
    made = headrace("tokens", "create", "--store", store_url, "--tenant", "default",
                    "--user", "ops", "--role", "operator")  # fmt: skip
    assert made.returncode == 0, made.stderr
    token = made.stdout.split()[-1]
    port = free_port()
    server = start(store_url, port, tmp_path / "server.log")
    url = f"http://127.0.0.1:{port}"
    sch = ControlHub(url, token=token)
    platform = Platform(url, token=token)
    try:
        pipeline = Pipeline.create()
        pipeline.read_from(Pipeline.from_list("numbers", list(range(10)))).map(
            worker_jobs.double
        ).write_to(Pipeline.to_list("doubled"))
        sch.publish_pipeline(pipeline, name="Test Pipeline", commit_message="first")
        job = sch.get_job_builder().build(
            "job name", pipeline=sch.pipelines.get(name="Test Pipeline")
        )
        sch.add_job(job)
        sch.start_job(job, wait=True)
        sch.wait_for_job_status(job, "INACTIVE", timeout_sec=60)
        assert [(s.run_count, s.status, s.color) for s in job.history] == [(1, "INACTIVE", "GREEN")]
        assert job.metrics.get(run_count=1).output_count == 10

        project = platform.projects.get(name="default")
        seen = project.jobs.get(name="job name")
        assert seen.job_id == job.job_id
        assert [r.state for r in seen.job_runs] == [JobRunState.Completed]
        assert repr(project.delete_job(seen)) == "<Response [204]>"
        assert sch.jobs.get_all(job_name="job name") == []
    finally:
        sch.client.close()
        platform.client.close()
        assert stop(server) == 0
