"""Seed 003 (watsonx.data integration SDK, "Jobs"): every code block, in order.

Only the imports and the creation of ``project`` (and of the ``flow`` the seed starts
from) are changed. The seed's invisible blocks wait for the run to reach a state; here
the first of them is also where the workers start, so that the run the seed shows as
``Queued`` is queued when the seed looks at it (on a live platform a run is queued until
an engine takes it). Every test runs on SQLite and PostgreSQL, embedded and through a
server.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from headrace import errors
from headrace.client.embedded import Client
from headrace.jet.pipeline import Pipeline, StreamSource
from headrace.platform import JobRunState, Platform


def same(x: Any) -> Any:
    return x


def streaming_pipeline() -> Pipeline:
    pipeline = Pipeline.create()
    pipeline.read_from(StreamSource("events")).map(same).write_to(Pipeline.to_list("seen"))
    return pipeline


@pytest.fixture
def idle(client_kind: str, store_url: str) -> Iterator[tuple[Any, Callable[[], None]]]:
    """A client whose platform has no worker yet, and what starts one."""
    if client_kind == "embedded":
        embedded = Client(store_url, lease_sec=3.0, run_workers=False)
        yield embedded, embedded.start_workers
        embedded.close()
        return
    from in_process_server import InProcessServer

    served = InProcessServer(store_url, lease_sec=3.0, workers=0)
    try:
        yield served.client(), served.add_worker
    finally:
        served.stop()


def wait_for_expected_state(job: Any, job_run: Any, state: JobRunState) -> None:
    deadline = time.monotonic() + 60
    while job_run.refresh_status().state != state:
        assert time.monotonic() < deadline, f"{job_run} never reached {state}"
        time.sleep(0.05)


def test_jobs(idle: tuple[Any, Callable[[], None]]) -> None:
    client, start_workers = idle
    platform = Platform(client)
    project = platform.projects.get(name="default")
    client.get_stream("events").publish_all(range(5))
    flow = project.create_flow("Test flow", streaming_pipeline())

    # Creating a Job
    job = project.create_job(
        flow=flow,
        name="Test Job",
        description="...",
    )
    shown = repr(job)

    assert re.fullmatch(r"Job\(name='Test Job', .+\)", shown), shown
    assert job.metadata.name == "Test Job" and job.metadata.description == "..."

    # Retrieving an Existing Job
    # Returns all jobs
    listed = project.jobs
    # Returns first job matching given `name`
    first = project.jobs.get(name="Test Job")
    # Return a list of all jobs that match given `name`
    matching = project.jobs.get_all(name="Test Job")

    assert re.fullmatch(r"\[Job\(name='Test Job', .+\)\]", repr(listed)), repr(listed)
    assert re.fullmatch(r"Job\(name='Test Job', .+\)", repr(first))
    assert [j.job_id for j in matching] == [job.job_id] == [first.job_id]
    with pytest.raises(ValueError, match="name='nothing'"):
        project.jobs.get(name="nothing")

    # Updating a Job
    job.metadata.name = "New name"
    job.metadata.description = "New description."
    response = project.update_job(job)

    assert repr(response) == "<Response [200]>" and response.status_code == 200
    assert response.json()["metadata"]["name"] == "New name"
    assert project.jobs.get(name="New name").metadata.description == "New description."

    # Starting a Job
    job_run = job.start(name="Test Job Run", description="...")
    shown = repr(job_run)

    assert re.fullmatch(r"JobRun\(name='Test Job Run', .+, state='Queued'\)", shown), shown

    # Retrieving a Job Run
    # Returns a list of all job runs for given job
    runs = job.job_runs
    # Returns a list of all job runs which status is `Running`
    queued = job.job_runs.get_all(states=[JobRunState.Queued])

    run_repr = r"\[JobRun\(name='Test Job Run', .+, state='Queued'\)\]"
    assert re.fullmatch(run_repr, repr(runs)), repr(runs)
    assert re.fullmatch(run_repr, repr(queued)), repr(queued)
    assert job.job_runs.get_all(states=[JobRunState.Running]) == []

    start_workers()  # an engine takes the run (see the module docstring)
    wait_for_expected_state(job, job_run, JobRunState.Running)

    # Cancelling a Job Run
    response = job_run.cancel()

    assert repr(response) == "<Response [204]>" and response.status_code == 204

    wait_for_expected_state(job, job_run, JobRunState.Canceled)

    # Retrieving a Job Run logs
    logs = job_run.logs

    # A pipeline's stages write no job log lines, so a flow's run has none (the seed skips
    # this block for StreamSets flows); what there is comes as strings.
    assert isinstance(logs, list) and all(isinstance(line, str) for line in logs)
    assert job_run.state == JobRunState.Canceled and JobRunState.Canceled.is_terminal()


def made_job(client: Any) -> tuple[Any, Any]:
    # set-up: the default project with a job of a flow, as the blocks before left it
    project = Platform(client).projects.get(name="default")
    client.get_stream("events")
    flow = project.create_flow("Test flow", streaming_pipeline())
    return project, project.create_job(flow=flow, name="Test Job", description="...")


def test_resetting_offsets(any_client: Any) -> None:
    _project, job = made_job(any_client)

    response = job.reset_offset()

    assert repr(response) == "<Response [200]>" and response.status_code == 200


def test_deleting_a_job(any_client: Any) -> None:
    project, job = made_job(any_client)

    response = project.delete_job(job)

    assert repr(response) == "<Response [204]>" and response.status_code == 204
    assert response.json()["metadata"]["asset_id"] == job.job_id
    assert project.jobs == []
    with pytest.raises(errors.NotFound, match=job.job_id):
        job.start()  # a call on a deleted job says so
