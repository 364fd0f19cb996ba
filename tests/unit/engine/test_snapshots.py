"""Snapshots in one process: crashes at random batch boundaries, restores, guarantees."""

from __future__ import annotations

import os
import pickle
from collections import Counter
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from snapshot_harness import (
    Control,
    Stop,
    Suspend,
    crash_and_restore,
    reference,
    stream_provider,
)

from headrace.connectors.memory import InMemoryProvider, MemorySnapshotStore
from headrace.engine import EngineOptions, SnapshotMismatch, run
from headrace.pipeline import Pipeline, StreamSource, counting, summing, tumbling

FAST = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# Per stream partition, (key, ts) events in roughly increasing time.
partitions = st.lists(
    st.lists(st.tuples(st.integers(0, 3), st.integers(0, 900)), max_size=25).map(
        lambda es: sorted(es, key=lambda e: e[1] // 150)
    ),
    min_size=1,
    max_size=3,
)
stops = st.lists(st.integers(1, 25), min_size=1, max_size=4)
guarantees = st.sampled_from(["exactly_once", "at_least_once"])


def options(batch: int, guarantee: str = "exactly_once", interval: int = 0) -> EngineOptions:
    return EngineOptions(
        batch_size=batch,
        split_items=4,
        guarantee=guarantee,  # type: ignore[arg-type]
        snapshot_interval_ms=interval,
    )


def chain() -> Pipeline:
    p = Pipeline.create()
    p.read_from(StreamSource("events")).map(lambda e: e[0] * 1000 + e[1]).filter(
        lambda x: x % 3 != 0
    ).flat_map(lambda x: [x, -x]).write_to(Pipeline.to_list("out"))
    return p


def running_counts() -> Pipeline:
    p = Pipeline.create()
    counts = (
        p.read_from(StreamSource("events"))
        .group_by(lambda e: e[0])
        .map_stateful(lambda: [0], _bump)
    )
    counts.write_to(Pipeline.to_list("out"))
    counts.write_to(Pipeline.to_map("latest"))
    return p


def _bump(state: list[int], event: tuple[int, int]) -> tuple[int, int]:
    state[0] += 1
    return event[0], state[0]


def windows() -> Pipeline:
    p = Pipeline.create()
    p.read_from(StreamSource("events")).with_timestamps(lambda e: e[1], 200).window(
        tumbling(100)
    ).group_by(lambda e: e[0]).aggregate(counting()).write_to(Pipeline.to_list("out"))
    return p


PIPELINES = {"chain": chain, "running_counts": running_counts, "windows": windows}


def check(guarantee: str, got: InMemoryProvider, ref: InMemoryProvider) -> None:
    out, want = Counter(got.lists.get("out", [])), Counter(ref.lists.get("out", []))
    if guarantee == "exactly_once":
        assert out == want
        assert got.maps.get("latest", {}) == ref.maps.get("latest", {})
    else:
        assert set(out) == set(want) and all(out[k] >= c for k, c in want.items())


@pytest.mark.parametrize("name", sorted(PIPELINES))
@FAST
@given(parts=partitions, stops=stops, batch=st.integers(1, 5), guarantee=guarantees)
def test_crashes_and_restores_match_an_uninterrupted_run(
    name: str, parts: list[list[Any]], stops: list[int], batch: int, guarantee: str
) -> None:
    build = PIPELINES[name]
    ref = reference(build, stream_provider(parts))
    got = stream_provider(parts)
    store, _crashes = crash_and_restore(build, got, stops, options(batch, guarantee))
    check(guarantee, got, ref)
    if guarantee == "exactly_once":
        assert all(
            not w.items or w.kind in ("list", "map") for c in store.commits for w in c.writes
        )
    else:
        assert all(not c.writes for c in store.commits)


@FAST
@given(parts=partitions, stops=stops, batch=st.integers(1, 5), at=st.sets(st.integers(1, 30)))
def test_snapshots_on_request_only(
    parts: list[list[Any]], stops: list[int], batch: int, at: set[int]
) -> None:
    # A long interval: snapshots come only from snapshot_requests, at arbitrary checks.
    ref = reference(windows, stream_provider(parts))
    got = stream_provider(parts)
    requests = {i: ["req"] for i in at}
    crash_and_restore(windows, got, stops, options(batch, interval=10**9), requests=requests)
    check("exactly_once", got, ref)


@FAST
@given(
    items=st.lists(st.sampled_from(["a", "b", "c", "d"]), max_size=60),
    stops=stops,
    batch=st.integers(1, 4),
    par=st.sampled_from([1, 3]),
)
def test_bounded_keyed_and_global_aggregates(
    items: list[str], stops: list[int], batch: int, par: int
) -> None:
    def build() -> Pipeline:
        p = Pipeline.create()
        src = p.read_from(Pipeline.from_list("in", items))
        src.group_by(lambda w: w).aggregate(counting()).write_to(Pipeline.to_map("counts"))
        src.map(len).aggregate(summing()).write_to(Pipeline.to_list("total"))
        src.distinct().write_to(Pipeline.to_list("distinct"))
        return p

    provider = InMemoryProvider()
    crash_and_restore(build, provider, stops, options(batch), parallelism=par)
    assert provider.maps.get("counts", {}) == dict(Counter(items))
    assert provider.lists["total"] == [len(items)]
    assert sorted(provider.lists.get("distinct", [])) == sorted(set(items))


def test_exactly_once_writes_reach_store_sinks_only_through_commits() -> None:
    provider = stream_provider([[(k % 3, k) for k in range(50)]])
    seen: list[int] = []

    def on_check(_calls: int) -> None:
        seen.append(len(provider.lists.get("out", [])))

    store = MemorySnapshotStore(provider)
    ctl = Control(on_check=on_check)
    run(chain(), provider, 1, ctl, options=options(4, interval=10**9), snapshots=store)
    assert set(seen) == {0}  # nothing was written before the final commit
    assert len(store.commits) == 1 and store.commits[0].names == []
    assert (
        provider.lists["out"]
        == reference(chain, stream_provider([[(k % 3, k) for k in range(50)]])).lists["out"]
    )


def test_suspend_takes_a_snapshot_and_resume_continues_windows() -> None:
    events = [(k % 2, t) for t, k in enumerate(range(400))]
    ref = reference(windows, stream_provider([events]))
    provider = stream_provider([events])
    store = MemorySnapshotStore(provider)
    opts = options(8, interval=10**9)
    with pytest.raises(Suspend):
        run(windows(), provider, 1, Control(40, exc=Suspend), options=opts, snapshots=store)
    assert len(store.commits) == 1  # taken at the suspend, not on a timer
    partial = list(provider.lists.get("out", []))
    assert 0 < len(partial) < len(ref.lists["out"])
    run(windows(), provider, 1, options=opts, snapshots=store, restore=store.latest)
    assert Counter(provider.lists["out"]) == Counter(ref.lists["out"])


def test_cancel_and_export_names_the_snapshot_and_none_guarantee_skips_plain_suspend() -> None:
    class CancelExport(Exception):
        take_snapshot = ("exported",)

    provider = stream_provider([[(0, t) for t in range(100)]])
    store = MemorySnapshotStore(provider)
    with pytest.raises(CancelExport):
        run(chain(), provider, 1, Control(5, exc=CancelExport), options=options(4), snapshots=store)
    assert store.commits[-1].names == ["exported"] and store.named["exported"] == store.latest

    quiet = MemorySnapshotStore()
    none = EngineOptions(batch_size=4)
    with pytest.raises(Suspend):
        run(
            chain(),
            stream_provider([[(0, 1)]], closed=False),
            1,
            Control(5, exc=Suspend),
            options=none,
            snapshots=quiet,
        )
    assert quiet.commits == []


def test_snapshot_requests_pass_names_through_and_metrics_are_reported() -> None:
    provider = stream_provider([[(0, t) for t in range(40)]])
    store = MemorySnapshotStore(provider)
    ctl = Control(requests={3: ["a", "b"], 6: ["c"]})
    metrics = run(chain(), provider, 1, ctl, options=options(4, interval=10**9), snapshots=store)
    assert [c.names for c in store.commits] == [["a", "b"], ["c"], []]
    assert store.named["a"] == store.named["b"] == store.commits[0].state
    assert ctl.metrics and ctl.metrics[-1]["received_count"] == 40 == metrics.received_count


def test_guarantee_none_takes_named_snapshots_when_asked() -> None:
    provider = stream_provider([[(0, t) for t in range(40)]])
    store = MemorySnapshotStore(provider)
    run(
        chain(),
        provider,
        1,
        Control(requests={2: ["x"]}),
        options=EngineOptions(batch_size=4),
        snapshots=store,
    )
    assert [c.names for c in store.commits] == [["x"]]
    assert len(provider.lists["out"]) > 0  # none: sinks write directly


@settings(max_examples=10, deadline=None)
@given(stops=stops)
def test_unbounded_stream_fed_while_running(stops: list[int]) -> None:
    # The stream stays open; the control appends between batches and closes it at the
    # end, as a live producer would. Crashes happen while it is still open.
    events = [(t % 3, t) for t in range(300)]
    ref = reference(windows, stream_provider([events]))
    provider = stream_provider([[]], closed=False)
    stream = provider.streams["events"]
    fed = [0]

    def feed(_calls: int) -> None:
        if fed[0] < len(events):
            stream.append(events[fed[0] : fed[0] + 11])
            fed[0] += 11
        elif not stream.is_closed():
            stream.close()

    store = MemorySnapshotStore(provider)
    for n in [*stops, None]:
        try:
            run(
                windows(),
                provider,
                1,
                Control(n, on_check=feed),
                options=options(5),
                snapshots=store,
                restore=store.latest,
            )
            break
        except Stop:
            pass
    assert Counter(provider.lists["out"]) == Counter(ref.lists["out"])


def test_metrics_add_up_across_restores() -> None:
    parts = [[(k, t) for t in range(60)] for k in range(2)]
    provider = stream_provider(parts)
    store, crashes = crash_and_restore(chain, provider, [4, 9, 3], options(3))
    assert crashes == 3
    final = pickle.loads(store.latest or b"")["metrics"]
    assert final.received_count == 120


def test_file_source_resumes_exactly_once(tmp_path: Any) -> None:
    path = os.path.join(tmp_path, "in.txt")
    with open(path, "w") as fh:
        fh.writelines(f"line {i}\n" for i in range(300))

    def build() -> Pipeline:
        p = Pipeline.create()
        p.read_from(Pipeline.from_text(path)).map(str.upper).write_to(Pipeline.to_list("out"))
        return p

    provider = InMemoryProvider()
    crash_and_restore(build, provider, [3, 5, 2, 7], options(16))
    assert sorted(provider.lists["out"]) == sorted(f"LINE {i}" for i in range(300))


def test_restore_refuses_another_pipeline_or_parallelism() -> None:
    provider = stream_provider([[(0, 1)]])
    store = MemorySnapshotStore(provider)
    run(chain(), provider, 2, executor="inprocess", options=options(4), snapshots=store)
    assert store.latest is not None
    with pytest.raises(SnapshotMismatch, match="another pipeline"):
        run(
            windows(),
            provider,
            2,
            executor="inprocess",
            options=options(4),
            snapshots=store,
            restore=store.latest,
        )
    with pytest.raises(SnapshotMismatch, match="parallelism 2"):
        run(chain(), provider, 1, options=options(4), snapshots=store, restore=store.latest)
    with pytest.raises(SnapshotMismatch, match="not a pipeline snapshot"):
        run(chain(), provider, 1, options=options(4), snapshots=store, restore=b"junk")


def test_a_guarantee_needs_a_snapshot_store_and_options_are_checked() -> None:
    with pytest.raises(ValueError, match="needs a SnapshotStore"):
        run(chain(), stream_provider([[(0, 1)]]), 1, options=options(4))
    with pytest.raises(ValueError, match="guarantee must be one of"):
        EngineOptions(guarantee="twice")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="snapshot_interval_ms"):
        EngineOptions(snapshot_interval_ms=-1)


def test_crash_without_snapshot_request_loses_nothing_committed() -> None:
    # A crash discards only the buffered writes of the unfinished epoch.
    provider = stream_provider([[(0, t) for t in range(100)]])
    store = MemorySnapshotStore(provider)
    with pytest.raises(Stop):
        run(
            chain(),
            provider,
            1,
            Control(10, requests={5: ["s"]}),
            options=options(4, interval=10**9),
            snapshots=store,
        )
    committed = sum(len(w.items) for c in store.commits for w in c.writes)
    assert len(provider.lists.get("out", [])) == committed > 0
