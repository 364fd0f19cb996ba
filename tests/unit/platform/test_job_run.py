"""A run's picture: the seed's repr, its state through the one table, its filters.

The records are the client's ``Run`` values; nothing is called on the client.
"""

from __future__ import annotations

import re

import pytest

from headrace import errors
from headrace.model.controlplane import Run
from headrace.model.status import Status
from headrace.platform import JobRunState
from headrace.platform.job import JobRun, job_runs


def run(status: Status, run_count: int = 1, error_count: int = 0) -> Run:
    return Run(
        job_id="j1", run_count=run_count, status=status, name="Test Job Run",
        description="...", parameters={"threshold": 3}, user_id=None, started_at_ms=1,
        updated_at_ms=1, finished_at_ms=None, error=None, metrics={"error_count": error_count},
    )  # fmt: skip


def test_a_waiting_run_shows_as_the_seed_shows_it() -> None:
    shown = repr(JobRun(object(), run(Status.WAITING)))
    assert re.fullmatch(r"JobRun\(name='Test Job Run', .+, state='Queued'\)", shown), shown


@pytest.mark.parametrize(
    ("status", "state"),
    [(Status.LOCKED, JobRunState.Starting), (Status.SUSPENDED, JobRunState.Paused),
     (Status.CANCELED, JobRunState.Canceled), (Status.TIMEOUT, JobRunState.Failed)],
)  # fmt: skip
def test_state_is_the_tables_image(status: Status, state: JobRunState) -> None:
    assert JobRun(object(), run(status)).state is state


def test_rejected_records_make_a_completed_run_completed_with_errors() -> None:
    assert JobRun(object(), run(Status.COMPLETED, error_count=2)).state is (
        JobRunState.CompletedWithErrors
    )


def test_runs_filter_by_states() -> None:
    runs = job_runs(
        [JobRun(object(), run(Status.RUNNING, 2)), JobRun(object(), run(Status.WAITING))]
    )
    assert [r.run_count for r in runs.get_all(states=[JobRunState.Queued])] == [1]
    assert [r.run_count for r in runs.get_all(states=["Running", "Queued"])] == [2, 1]
    assert runs.get_all(states=[JobRunState.Failed]) == []
    with pytest.raises(errors.InvalidInput, match=r"'Sleeping'.*states are Queued") as info:
        runs.get_all(states=["Sleeping"])
    assert info.value.field == "states"
