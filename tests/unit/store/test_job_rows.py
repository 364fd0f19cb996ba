"""``job_rows.event_row`` stores a write as one row; ``events_from_row`` reads its steps back."""

from __future__ import annotations

import itertools

import pytest

from headrace.model.status import Status
from headrace.store.job_rows import EVENT_COLUMNS, event_row, events_from_row, via_of

S = Status
PATHS = [
    (S.WAITING, S.LOCKED),
    (S.LOCKED, S.RUNNING, S.COMPLETED),
    (S.LOCKED, S.RUNNING, S.CANCELING, S.CANCELED),
]


@pytest.mark.parametrize("path", PATHS, ids=["one-step", "two-steps", "three-steps"])
def test_a_write_is_one_row_that_reads_back_as_one_event_per_step(
    path: tuple[Status, ...],
) -> None:
    job_id, tenant_id, user_id = "j-1", "t-1", "u-1"
    row = event_row(job_id, tenant_id, path, user_id=user_id, at_ms=42, reason="why", attempt=3)
    assert set(row) == set(EVENT_COLUMNS)
    assert (row["from_status"], row["to_status"]) == (str(path[0]), str(path[-1]))
    assert row["via"] == (",".join(path[1:-1]) or None)
    events = events_from_row({**row, "event_id": 7})  # type: ignore[arg-type]
    assert [(e.from_status, e.to_status) for e in events] == list(itertools.pairwise(path))
    for e in events:
        assert (e.event_id, e.job_id, e.user_id, e.at_ms, e.reason, e.attempt) == (
            7, job_id, user_id, 42, "why", 3
        )  # fmt: skip


def test_a_row_without_via_reads_as_before() -> None:
    # A row written before migration 0018, or a job's creation (no status before it).
    row = {
        "event_id": 1, "job_id": "j", "tenant_id": "t", "from_status": None,
        "to_status": "waiting", "user_id": None, "at_ms": 5, "reason": "scheduled",
        "attempt": 0, "via": None,
    }  # fmt: skip
    (event,) = events_from_row(row)  # type: ignore[arg-type]
    assert (event.from_status, event.to_status, event.user_id) == (None, S.WAITING, None)


def test_via_names_the_statuses_between_first_and_last() -> None:
    assert via_of((S.LOCKED, S.COMPLETED)) is None
    assert via_of((S.LOCKED, S.RUNNING, S.COMPLETED)) == "running"
    assert via_of((S.LOCKED, S.RUNNING, S.CANCELING, S.CANCELED)) == "running,canceling"
