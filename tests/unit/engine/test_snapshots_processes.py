"""Snapshots with worker processes: the parent's drained barrier, crashes and restores."""

from __future__ import annotations

import time
from collections import Counter

import pytest
from snapshot_harness import Control, Suspend, crash_and_restore, reference, stream_provider

from headrace.connectors.memory import MemorySnapshotStore
from headrace.engine import EngineOptions, run
from headrace.pipeline import Pipeline, StreamSource, counting, tumbling

EVENTS = [[(k, t) for t in range(0, 600, 3)] for k in range(3)]


def options(guarantee: str = "exactly_once", interval: int = 5) -> EngineOptions:
    return EngineOptions(
        batch_size=16,
        split_items=4,
        guarantee=guarantee,  # type: ignore[arg-type]
        snapshot_interval_ms=interval,
    )


def _event(i: int) -> tuple[int, int]:
    return i % 3, i


def generated_windows() -> Pipeline:
    # Paced by the wall clock, so crashes fall at different points each run.
    p = Pipeline.create()
    p.read_from(Pipeline.generator(rate=4000, count=1500, fn=_event)).with_timestamps(
        lambda e: e[1], 50
    ).window(tumbling(100)).group_by(lambda e: e[0]).aggregate(counting()).write_to(
        Pipeline.to_list("out")
    )
    return p


def windows() -> Pipeline:
    p = Pipeline.create()
    p.read_from(StreamSource("events")).with_timestamps(lambda e: e[1], 50).window(
        tumbling(100)
    ).group_by(lambda e: e[0]).aggregate(counting()).write_to(Pipeline.to_list("out"))
    return p


def running_counts() -> Pipeline:
    p = Pipeline.create()
    p.read_from(Pipeline.generator(rate=4000, count=1500, fn=_event)).map(
        lambda e: (e[0] * 7 + e[1]) % 5
    ).group_by(lambda k: k).map_stateful(lambda: [0], _bump).write_to(Pipeline.to_list("out"))
    return p


def _bump(state: list[int], key: int) -> tuple[int, int]:
    state[0] += 1
    return key, state[0]


def _slow(e: tuple[int, int]) -> tuple[int, int]:
    time.sleep(0.001)  # so the checks that crash a run fall inside it
    return e


def item_windows() -> Pipeline:
    # A bounded source: its splits are claimed by the workers as they read.
    events = [_event(i) for i in range(1200)]
    p = Pipeline.create()
    p.read_from(Pipeline.items(events)).map(_slow).with_timestamps(lambda e: e[1], 50).window(
        tumbling(100)
    ).group_by(lambda e: e[0]).aggregate(counting()).write_to(Pipeline.to_list("out"))
    return p


@pytest.mark.parametrize("build", [generated_windows, running_counts, item_windows])
@pytest.mark.parametrize("guarantee", ["exactly_once", "at_least_once"])
def test_two_processes_crash_and_restore(build: object, guarantee: str) -> None:
    assert callable(build)
    ref = reference(build, stream_provider([]))
    got = stream_provider([])
    # Crash points by items read, not by checks: the parent checks once a report or a
    # 20 ms wait, so under load a clock-paced generator got through most of its items in
    # the first two runs' 6 + 9 checks and the third run ended before its 4th check.
    # Each run now crashes in place of its first commit of 200, 400, then 600 items read
    # (of 1,500 or 1,200); its last commit has them all, so each of the three crashes.
    store, crashes = crash_and_restore(
        build,
        got,
        [200, 400, 600],
        options(guarantee),
        parallelism=2,
        executor="processes",
        by="read",
    )
    assert crashes == 3 and len(store.commits) > 3, (crashes, len(store.commits))
    out, want = Counter(got.lists["out"]), Counter(ref.lists["out"])
    if guarantee == "exactly_once":
        assert out == want
    else:
        assert set(out) == set(want) and all(out[k] >= c for k, c in want.items())


def test_suspend_with_snapshot_and_named_requests_in_processes() -> None:
    ref = reference(windows, stream_provider(EVENTS))
    # Open while suspended, so the run cannot end before the eighth check however fast
    # the workers are; closed for the restored run.
    provider = stream_provider(EVENTS, closed=False)
    store = MemorySnapshotStore(provider)
    ctl = Control(8, exc=Suspend, requests={3: ["mid"]})
    with pytest.raises(Suspend):
        run(windows(), provider, 2, ctl, options=options(interval=10**9), snapshots=store)
    assert [c.names for c in store.commits] == [["mid"], []]
    provider.streams["events"].close()
    run(windows(), provider, 2, options=options(), snapshots=store, restore=store.latest)
    assert Counter(provider.lists["out"]) == Counter(ref.lists["out"])
