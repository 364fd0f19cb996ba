"""The worker's write buffer: merged chains, start writes held back to merge, gathering."""

from __future__ import annotations

import threading
import time
from typing import Any

import hypothesis
from hypothesis import strategies as st

from headrace import defaults
from headrace.model.status import Status
from headrace.model.writes import AttemptWrite
from headrace.scheduler.writebuffer import WriteBuffer, gather

S = Status
T = "00000000-0000-0000-0000-000000000000"


def test_a_young_start_write_waits_to_merge_with_the_end() -> None:
    buf = WriteBuffer()
    buf.add(AttemptWrite("j1", T, 1, (S.LOCKED, S.RUNNING), {"started_at_ms": 1}, "started"))
    writes, logs, held = buf.take(time.monotonic() - 10)
    assert writes == [] and logs == [] and held
    buf.add(AttemptWrite("j1", T, 1, (S.RUNNING, S.COMPLETED), {"result": "1"}, "completed"))
    writes, _, held = buf.take(time.monotonic() - 10)
    assert not held
    assert writes == [
        AttemptWrite(
            "j1",
            T,
            1,
            (S.LOCKED, S.RUNNING, S.COMPLETED),
            {"started_at_ms": 1, "result": "1"},
            "completed",
        )
    ]


def test_an_old_start_write_and_every_other_write_go_at_once() -> None:
    buf = WriteBuffer()
    buf.add(AttemptWrite("old", T, 1, (S.LOCKED, S.RUNNING)))
    cutoff = time.monotonic()
    buf.add(AttemptWrite("young", T, 1, (S.LOCKED, S.RUNNING)))
    buf.add(AttemptWrite("progress", T, 1, (), {"progress": 0.5}))
    buf.logs.append({"message": "x"})
    writes, logs, held = buf.take(cutoff)
    assert [w.job_id for w in writes] == ["old", "progress"] and logs == [{"message": "x"}]
    assert held
    writes, _, held = buf.take()  # no cutoff (a stopping worker): everything
    assert [w.job_id for w in writes] == ["young"] and not held
    assert buf.take() == ([], [], False)


def test_writes_put_back_go_ahead_of_newer_ones_and_merge_with_them() -> None:
    buf = WriteBuffer()
    buf.add(AttemptWrite("j1", T, 1, (S.RUNNING, S.COMPLETED), {"result": "1"}, "completed"))
    buf.logs.append({"message": "new"})
    taken = [AttemptWrite("j1", T, 1, (S.LOCKED, S.RUNNING), {"started_at_ms": 1}, "started")]
    taken.append(AttemptWrite("j2", T, 1, (), {"progress": 0.5}))
    back = buf.behind(taken, [{"message": "old"}])
    writes, logs, _ = back.take()
    assert [w.job_id for w in writes] == ["j1", "j2"]
    assert writes[0].path == (S.LOCKED, S.RUNNING, S.COMPLETED)
    assert logs == [{"message": "old"}, {"message": "new"}]


class CountedEvent(threading.Event):
    """A real event that counts the waits on it."""

    def __init__(self) -> None:
        super().__init__()
        self.waits = 0

    def wait(self, timeout: float | None = None) -> bool:
        self.waits += 1
        return super().wait(timeout)


def test_only_a_write_other_than_a_lone_start_is_ending() -> None:
    buf = WriteBuffer()
    assert not buf.ending()
    buf.add(AttemptWrite("j1", T, 1, (S.LOCKED, S.RUNNING), {"started_at_ms": 1}, "started"))
    assert not buf.ending()  # held back to merge: no reason to gather for it
    buf.add(AttemptWrite("j1", T, 1, (S.RUNNING, S.COMPLETED), {"result": "1"}, "completed"))
    assert buf.ending()
    buf.take()
    buf.logs.append({"message": "x"})
    assert buf.ending()


def test_gather_starts_at_once_when_nothing_else_is_ending(monkeypatch: Any) -> None:
    monkeypatch.setattr(defaults, "GATHER_QUIET_SEC", 30.0)
    kick = CountedEvent()
    gather(kick, lambda: False)
    assert kick.waits == 0


def test_gather_waits_one_quiet_gap_then_goes(monkeypatch: Any) -> None:
    monkeypatch.setattr(defaults, "GATHER_QUIET_SEC", 0.01)
    monkeypatch.setattr(defaults, "GATHER_MAX_SEC", 30.0)
    kick = CountedEvent()
    gather(kick, lambda: True)  # no report comes: one quiet gap, no more
    assert kick.waits == 1


def test_gather_never_waits_past_its_bound(monkeypatch: Any) -> None:
    monkeypatch.setattr(defaults, "GATHER_QUIET_SEC", 30.0)
    monkeypatch.setattr(defaults, "GATHER_MAX_SEC", 0.0)
    kick = CountedEvent()
    gather(kick, lambda: True)
    assert kick.waits == 0


_PATHS = (
    (S.LOCKED, S.RUNNING),
    (S.RUNNING, S.COMPLETED),
    (S.LOCKED, S.RUNNING, S.COMPLETED),
    (S.RUNNING, S.RUNNING),
    (S.LOCKED, S.FAILED),
    (),
)


@hypothesis.given(
    steps=st.lists(
        st.one_of(
            st.tuples(
                st.just("add"),
                st.sampled_from(["a", "b", "c"]),
                st.integers(1, 2),
                st.sampled_from(_PATHS),
            ),
            st.tuples(st.just("take"), st.booleans()),
            st.tuples(st.just("log")),
            st.tuples(st.just("behind")),
        ),
        max_size=40,
    )
)
def test_ending_says_what_a_scan_of_the_queued_writes_says(steps: list[Any]) -> None:
    # ``ending`` is kept as writes arrive; the definition is the scan it replaced.
    buf = WriteBuffer()

    def scanned(b: WriteBuffer) -> bool:
        return bool(b.logs) or any(
            len(chain) > 1 or chain[0].path != (S.LOCKED, S.RUNNING) for chain in b.writes.values()
        )

    for step in steps:
        if step[0] == "add":
            buf.add(AttemptWrite(step[1], T, step[2], step[3], {}, "r"))
        elif step[0] == "take":
            writes, logs, _ = buf.take(time.monotonic() - 10 if step[1] else float("inf"))
            if step[1] and writes:
                buf = buf.behind(writes[:1], logs)
        elif step[0] == "log":
            buf.logs.append({"message": "x"})
        else:
            buf = buf.behind([], [])
        assert buf.ending() == scanned(buf), step
