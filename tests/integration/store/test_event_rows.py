"""One ``job_events`` row per status write, read back as one event per step, on both databases.

A worker writes a short job's start and end as one write (``locked, running, completed``):
one row, ``via`` naming ``running``; every reader returns the two events it holds.
"""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from sqlalchemy import select

from headrace import Client, defaults
from headrace.model.job import JobEvent
from headrace.model.status import Status
from headrace.model.writes import AttemptWrite
from headrace.store import tables
from headrace.store.attempts import AttemptRepository

S = Status
E = tables.job_events


@pytest.fixture
def merged(monkeypatch: pytest.MonkeyPatch) -> None:
    """A worker holds a lone start write back until its attempt's end, however loaded the
    machine: start and end are one write (by default it waits 10 ms for the end)."""
    monkeypatch.setattr(defaults, "FLUSH_INTERVAL_SEC", 30.0)


def stored(client: Client, job_id: str) -> list[tuple[Any, ...]]:
    """The job's event rows as stored: (from, to, via), oldest first."""
    with client.store.read() as conn:
        rows = conn.execute(
            select(E.c.from_status, E.c.to_status, E.c.via)
            .where(E.c.job_id == job_id)
            .order_by(E.c.event_id)
        )
        return [tuple(r) for r in rows]


def steps(events: list[JobEvent]) -> list[tuple[Status | None, Status]]:
    return [(e.from_status, e.to_status) for e in events]


@pytest.mark.usefixtures("merged")
def test_a_worker_stores_a_no_op_job_in_three_rows_and_reads_its_four_events(
    store_url: str,
) -> None:
    with Client(store_url, lease_sec=5.0) as client:
        client.job_type("ev.noop")(lambda ctx, p: None)
        job = client.jobs.schedule("ev.noop")
        assert client.jobs.wait(job.job_id, 60).status is S.COMPLETED
        rows = stored(client, job.job_id)
        events = client.jobs.events(job.job_id)
    assert rows == [
        (None, "waiting", None), ("waiting", "locked", None), ("locked", "completed", "running")
    ]  # fmt: skip
    assert steps(events) == [
        (None, S.WAITING), (S.WAITING, S.LOCKED), (S.LOCKED, S.RUNNING), (S.RUNNING, S.COMPLETED)
    ]  # fmt: skip
    scheduled, claimed, started, ended = events
    assert scheduled.event_id < claimed.event_id < started.event_id == ended.event_id
    shared = ("job_id", "user_id", "at_ms", "reason", "attempt")
    assert [getattr(started, f) for f in shared] == [getattr(ended, f) for f in shared]
    assert ended.reason == "completed" and ended.attempt == 1 and ended.user_id is None
    assert claimed.at_ms <= started.at_ms


PATH = (S.LOCKED, S.RUNNING, S.CANCELING, S.CANCELED)


@pytest.mark.parametrize("how", ["round", "round-with-logs", "apply", "apply-one"])
def test_every_write_path_of_the_store_stores_one_row_per_write(store_url: str, how: str) -> None:
    # The pump's single round (PostgreSQL's statement, SQLite's driver round), its general
    # path (a round with log lines), ``apply`` of a batch and of one write.
    client = Client(store_url, run_workers=False)
    client.job_type("ev.held", queue="maintenance")(lambda ctx, p: None)
    client.jobs.schedule_many("ev.held", [{}] * 2)
    a = AttemptRepository(client.store, str(uuid.uuid4()))
    _, held = a.pump([], [], [("maintenance", ["ev.held"], 2)], 30)
    writes = [AttemptWrite(c.job_id, c.tenant_id, c.attempt, PATH, {}, "gone") for c in held]
    if how == "apply-one":
        writes = writes[:1]
    logs = [
        {"job_id": w.job_id, "tenant_id": w.tenant_id, "at_ms": 1, "level": "info",
         "message": "hi", "attempt": w.attempt}
        for w in writes
    ] if how == "round-with-logs" else []  # fmt: skip
    if how.startswith("round"):
        assert a.pump(writes, logs, [], 30) == ([], [])
    else:
        assert a.apply(writes) == []
    for w in writes:
        assert stored(client, w.job_id) == [
            (None, "waiting", None), ("waiting", "locked", None),
            ("locked", "canceled", "running,canceling"),
        ]  # fmt: skip
        events = client.jobs.events(w.job_id)
        assert steps(events[2:]) == [
            (S.LOCKED, S.RUNNING), (S.RUNNING, S.CANCELING), (S.CANCELING, S.CANCELED)
        ]  # fmt: skip
        assert {(e.event_id, e.reason, e.attempt) for e in events[2:]} == {
            (events[2].event_id, "gone", 1)
        }
    client.close()


def pages(client: Client, job_id: str, run: int, limit: int, **window: Any) -> list[JobEvent]:
    """Every page of a run's events, read ``limit`` at a time, until an empty page."""
    found: list[JobEvent] = []
    for page in range(1, 20):
        chunk = client.jobs.run_events(job_id, run, page=page, limit=limit, **window)
        assert len(chunk) <= limit
        if not chunk:
            return found
        assert len(chunk) == limit or not client.jobs.run_events(
            job_id, run, page=page + 1, limit=limit, **window
        )  # only the last page is short
        found += chunk
    raise AssertionError("no empty page")


@pytest.mark.usefixtures("merged")
def test_a_runs_events_filter_and_page_the_steps_of_a_row(store_url: str) -> None:
    with Client(store_url, lease_sec=5.0) as client:
        client.job_type("ev.run")(lambda ctx, p: None)
        job = client.jobs.create("ev-run", type="ev.run", params={})
        for run in (1, 2):
            client.jobs.start(job.job_id)
            assert client.jobs.wait(job.job_id, 60).status is S.COMPLETED
            assert client.jobs.get(job.job_id).run_count == run
        # The job's creation, then per run: its start, its claim, its start and end.
        assert len(stored(client, job.job_id)) == 1 + 3 * 2
        started = (S.CREATED, S.COMPLETED)
        for run, first in zip((1, 2), started, strict=True):
            events = client.jobs.run_events(job.job_id, run)
            assert steps(events) == [
                (first, S.WAITING), (S.WAITING, S.LOCKED),
                (S.LOCKED, S.RUNNING), (S.RUNNING, S.COMPLETED),
            ]  # fmt: skip
            assert events[0].reason == f"run {run} started"
            # ``status`` names the statuses changed to: a row's inner step matches alone.
            (running,) = client.jobs.run_events(job.job_id, run, status="running")
            assert running == events[2] and running.event_id == events[3].event_id
            assert (
                client.jobs.run_events(job.job_id, run, status=["running", "completed"])
                == (events[2:])
            )
            assert client.jobs.run_events(job.job_id, run, status=["locked", "completed"]) == [
                events[1], events[3]
            ]  # fmt: skip
            assert client.jobs.run_events(job.job_id, run, status="completed") == events[3:]
            assert client.jobs.run_events(job.job_id, run, status="failed") == []
            # Pages count events, not rows: none lost or repeated at a row's edge.
            for limit in (1, 2, 3, 4, 5):
                assert pages(client, job.job_id, run, limit) == events
                kept = ["locked", "running", "completed"]
                assert pages(client, job.job_id, run, limit, status=kept) == events[1:]
                assert pages(client, job.job_id, run, limit, status="running") == [events[2]]
            assert client.jobs.run_events(job.job_id, run, page=2, limit=2) == events[2:]
            assert client.jobs.run_events(job.job_id, run, page=3, limit=1) == [events[2]]
            assert client.jobs.run_events(job.job_id, run, page=2, limit=3) == [events[3]]
            at = events[3].at_ms
            assert client.jobs.run_events(job.job_id, run, since_ms=at) == [
                e for e in events if e.at_ms >= at
            ]
            assert client.jobs.run_events(job.job_id, run, until_ms=at) == [
                e for e in events if e.at_ms < at
            ]
        every = client.jobs.events(job.job_id)
        assert every[1:] == client.jobs.run_events(job.job_id, 1) + client.jobs.run_events(
            job.job_id, 2
        )
        assert steps(every[:1]) == [(None, S.CREATED)]
