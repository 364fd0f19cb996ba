from __future__ import annotations

import pytest

from headrace import errors
from headrace.model import status as machine
from headrace.model.status import Status, StatusKind

SEED_004_KINDS = {
    StatusKind.INITIAL: {"initializing", "waiting", "resuming"},
    StatusKind.RUNNING: {"running", "canceling", "suspending", "locked"},
    StatusKind.INTERMEDIATE: {"suspended"},
    StatusKind.FINAL: {"skipped", "canceled", "failed", "timeout", "completed"},
}


def test_kinds_are_seed_004s() -> None:
    for kind, names in SEED_004_KINDS.items():
        for name in names:
            assert machine.kind(Status(name)) is kind
    # retrying is not in the seed's lists; ARCHITECTURE puts it with the running ones.
    assert machine.kind(Status.RETRYING) is StatusKind.RUNNING


def test_final_statuses_go_only_to_a_new_run() -> None:
    # ARCHITECTURE §2: final -> "(a new run)": ``start`` queues the job again.
    for s in machine.FINAL:
        assert {t for t in Status if machine.allowed(s, t)} == {Status.WAITING}


def test_created_goes_only_to_its_first_run() -> None:
    assert {t for t in Status if machine.allowed(Status.CREATED, t)} == {Status.WAITING}
    assert machine.FINAL | {Status.CREATED} == machine.STARTABLE
    assert Status.CREATED not in machine.FINAL


def test_every_status_is_reachable_from_waiting() -> None:
    seen = {Status.WAITING}
    frontier = [Status.WAITING]
    while frontier:
        s = frontier.pop()
        for t in machine.TRANSITIONS[s][1]:
            if t not in seen:
                seen.add(t)
                frontier.append(t)
    assert seen == set(Status) - {Status.INITIALIZING, Status.CREATED}


def test_illegal_transition_names_job_current_and_requested() -> None:
    with pytest.raises(errors.IllegalTransition) as info:
        machine.check("job-1", Status.COMPLETED, Status.RESUMING)
    assert info.value.job_id == "job-1"
    assert info.value.current == "completed"
    assert info.value.requested == "resuming"
    assert "job-1" in str(info.value) and "completed" in str(info.value)
    assert isinstance(info.value, errors.Conflict)


def test_sources_is_the_inverse_of_the_table() -> None:
    for target in Status:
        for source in Status:
            assert (source in machine.sources(target)) == machine.allowed(source, target)


def test_parse_names_the_field() -> None:
    assert machine.parse(" Running ") is Status.RUNNING
    with pytest.raises(errors.InvalidInput) as info:
        machine.parse("runing", field="status")
    assert info.value.field == "status"
    assert "runing" in str(info.value)
