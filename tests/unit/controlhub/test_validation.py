"""Bad input to the Control Hub facade is refused before any call reaches the client.

The client here is a bare ``object()``: any call into it would raise AttributeError, so
each refusal below is the facade's own check, made before anything could change.
"""

from __future__ import annotations

import io

import pytest

from headrace import errors
from headrace.controlhub import ControlHub, Job


@pytest.fixture
def sch() -> ControlHub:
    return ControlHub(object())


def test_build_needs_a_published_pipeline(sch: ControlHub) -> None:
    with pytest.raises(errors.InvalidInput, match="pipeline") as info:
        sch.get_job_builder().build("job name")
    assert info.value.field == "pipeline" and isinstance(info.value, ValueError)


def test_upload_offset_takes_exactly_one_source(sch: ControlHub) -> None:
    job = Job(sch.client, job_name="job name")
    with pytest.raises(errors.InvalidInput, match="exactly one"):
        sch.upload_offset(job)
    with pytest.raises(errors.InvalidInput, match="exactly one"):
        sch.upload_offset(job, offset_file=io.StringIO("{}"), offset_json={"version": 2})
    with pytest.raises(errors.InvalidInput, match="not JSON"):
        sch.upload_offset(job, offset_file=io.StringIO("{not json"))


def test_a_job_not_added_yet_says_so(sch: ControlHub) -> None:
    job = Job(sch.client, job_name="job name")
    with pytest.raises(errors.InvalidInput, match="add_job"):
        sch.start_job(job)
    with pytest.raises(errors.InvalidInput, match="add_job"):
        job.history  # noqa: B018


def test_wait_for_job_status_names_a_status_that_does_not_exist(sch: ControlHub) -> None:
    with pytest.raises(errors.InvalidInput, match="'GREEN' is not one of INACTIVE"):
        sch.wait_for_job_status(Job(sch.client, job_name="x"), "GREEN")


def test_calls_take_jobs_only(sch: ControlHub) -> None:
    with pytest.raises(errors.InvalidInput, match="expected Job objects, got str"):
        sch.delete_job("a job id")
    with pytest.raises(errors.InvalidInput, match="expected a Job"):
        sch.add_job("a job")  # type: ignore[arg-type]
