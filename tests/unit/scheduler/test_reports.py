"""A worker's queue of reports: start writes held back, and the pump told once."""

from __future__ import annotations

import threading

from headrace.model.status import Status
from headrace.model.writes import AttemptWrite
from headrace.scheduler.reports import Reports
from headrace.scheduler.writebuffer import START

S = Status


def start_write(job_id: str) -> AttemptWrite:
    return AttemptWrite(job_id, "t", 1, START, {"started_at_ms": 1}, "started")


def test_a_start_made_at_a_slot_tells_the_pump_only_when_it_knew_of_none() -> None:
    kick = threading.Event()
    reports = Reports(threading.Lock(), kick)
    reports.queue_start(start_write("a"))
    assert kick.is_set() and reports.held
    kick.clear()
    reports.queue_start(start_write("b"))
    assert not kick.is_set()  # the pump comes back for held starts on its own


def test_take_holds_back_fresh_lone_starts_and_says_so() -> None:
    reports = Reports(threading.Lock(), threading.Event())
    reports.queue_start(start_write("a"))
    end = AttemptWrite("b", "t", 1, (S.RUNNING, S.COMPLETED), {}, "completed")
    reports.queue(start_write("b"))
    reports.queue(end)
    writes, logs = reports.take(hold_after=0.0)
    assert [(w.job_id, w.path) for w in writes] == [("b", (S.LOCKED, S.RUNNING, S.COMPLETED))]
    assert logs == [] and reports.held
    writes, _ = reports.take()
    assert [w.job_id for w in writes] == ["a"] and not reports.held


def test_writes_put_back_come_before_newer_ones() -> None:
    reports = Reports(threading.Lock(), threading.Event())
    reports.queue(start_write("new"))
    reports.requeue([start_write("old")], [])
    writes, _ = reports.take()
    assert [w.job_id for w in writes] == ["old", "new"]


def test_a_claim_marks_starts_held_only_when_it_started_attempts() -> None:
    kick = threading.Event()
    reports = Reports(threading.Lock(), kick)
    fail = AttemptWrite("x", "t", 1, (S.LOCKED, S.FAILED), {"error": "bad"}, "bad params")
    reports.queue_claimed([fail], started=False)
    assert not reports.held and reports.ending() and not kick.is_set()
    reports.queue_claimed([start_write("a")], started=True)
    assert reports.held and not kick.is_set()  # the claiming pump comes back on its own
