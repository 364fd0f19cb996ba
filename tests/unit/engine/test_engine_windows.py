"""Windows and watermarks against a reference; results independent of parallelism."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from headrace.connectors.memory import InMemoryProvider, MemoryStream
from headrace.engine import EngineOptions, run
from headrace.pipeline import Pipeline, counting, session, sliding, summing, to_set, tumbling

OPTIONS = EngineOptions(batch_size=4, split_items=6)
# (key, ts) events in roughly increasing time with bounded disorder.
events = st.lists(st.tuples(st.integers(0, 3), st.integers(0, 5000)), max_size=50).map(
    lambda es: sorted(es, key=lambda e: e[1] // 700)
)


def windowed(items: list[Any], build: Any, par: int, lag: int = 10_000) -> list[Any]:
    p = Pipeline.create()
    stage = p.read_from(Pipeline.items(items)).with_timestamps(lambda e: e[1], lag)
    build(stage).write_to(Pipeline.to_list("out"))
    provider = InMemoryProvider()
    run(p, provider, par, executor="inprocess", options=OPTIONS)
    return sorted(provider.lists.get("out", []), key=repr)


def fixed_reference(items: list[Any], size: int, step: int, keyed: bool) -> list[Any]:
    acc: dict[tuple[int, Any], int] = defaultdict(int)
    for k, t in items:
        last = t - t % step
        for s in range(last - size + step, last + 1, step):
            acc[(s, k if keyed else None)] += 1
    if keyed:
        return sorted(((s, s + size, k, c) for (s, k), c in acc.items()), key=repr)
    return sorted(((s, s + size, c) for (s, _k), c in acc.items()), key=repr)


@given(events)
def test_tumbling_keyed_both_spellings_match_reference(items: list[Any]) -> None:
    ref = fixed_reference(items, 1000, 1000, keyed=True)
    for par in (1, 4):
        a = windowed(
            items,
            lambda s: s.window(tumbling(1000)).group_by(lambda e: e[0]).aggregate(counting()),
            par,
        )
        b = windowed(
            items,
            lambda s: s.group_by(lambda e: e[0]).window(tumbling(1000)).aggregate(counting()),
            par,
        )
        assert a == b == ref


@given(events)
def test_sliding_unkeyed_matches_reference(items: list[Any]) -> None:
    ref = fixed_reference(items, 1000, 250, keyed=False)
    for par in (1, 4):
        got = windowed(
            items, lambda s: s.window(sliding(1000, 250)).aggregate(summing(lambda e: 1)), par
        )
        assert got == ref


def session_reference(items: list[Any], gap: int) -> list[Any]:
    out = []
    by_key: dict[int, list[int]] = defaultdict(list)
    for k, t in items:
        by_key[k].append(t)
    for k, ts in by_key.items():
        ts.sort()
        start, end, members = ts[0], ts[0] + gap, {ts[0]}
        for t in ts[1:]:
            if t < end:
                end, members = max(end, t + gap), members | {t}
            else:
                out.append((start, end, k, members))
                start, end, members = t, t + gap, {t}
        out.append((start, end, k, members))
    return sorted(out, key=repr)


@given(events)
def test_session_windows_match_reference(items: list[Any]) -> None:
    ref = session_reference(items, 300)
    for par in (1, 4):
        got = windowed(
            items,
            lambda s: s.group_by(lambda ev: ev[0]).window(session(300)).aggregate(to_set()),
            par,
        )
        got = sorted(((s, e, k, {t for _k, t in v}) for s, e, k, v in got), key=repr)
        assert got == ref


@settings(max_examples=30)
@given(st.lists(st.integers(0, 3000), max_size=40), st.integers(0, 500))
def test_late_items_are_dropped_counted_and_independent_of_parallelism(
    ts: list[int], lag: int
) -> None:
    # Lateness is judged per split (fixed size), so any parallelism sees the same items.
    kept, late, newest = [], 0, None
    for i, t in enumerate(ts):
        if i % OPTIONS.split_items == 0:
            newest = None
        if newest is not None and t < newest - lag:
            late += 1
            continue
        kept.append(t)
        newest = t if newest is None else max(newest, t)
    ref = fixed_reference([(0, t) for t in kept], 1000, 1000, keyed=False)
    for par in (1, 4):
        p = Pipeline.create()
        p.read_from(Pipeline.items(ts)).with_timestamps(lambda t: t, lag).window(
            tumbling(1000)
        ).aggregate(counting()).write_to(Pipeline.to_list("out"))
        provider = InMemoryProvider()
        metrics = run(p, provider, par, executor="inprocess", options=OPTIONS)
        assert sorted(provider.lists.get("out", [])) == ref
        assert metrics.late_dropped_count == late


def test_window_emits_when_watermark_passes_not_only_at_end() -> None:
    stream = MemoryStream(1, [(0, t) for t in range(0, 5000, 100)])
    stream.close()
    emitted_before_end: list[Any] = []

    class Control:
        def check(self) -> None:
            emitted_before_end.append(len(provider.lists.get("out", [])))

    p = Pipeline.create()
    p.read_from(Pipeline.from_stream("ev")).with_timestamps(lambda e: e[1], 0).window(
        tumbling(1000)
    ).aggregate(counting()).write_to(Pipeline.to_list("out"))
    provider = InMemoryProvider(streams={"ev": stream})
    run(p, provider, 1, Control(), executor="inprocess", options=EngineOptions(batch_size=5))
    assert provider.lists["out"] == [(s, s + 1000, 10) for s in range(0, 5000, 1000)]
    assert max(emitted_before_end[:-1]) > 0  # windows closed while input was still coming


@given(st.lists(st.integers(0, 4000), max_size=40), st.integers(1, 3))
def test_stream_partitions_give_same_windows_at_any_parallelism(ts: list[int], parts: int) -> None:
    results = []
    for par in (1, 4):
        stream = MemoryStream(parts)
        for i in range(parts):
            stream.append_to(i, sorted(ts[i::parts]))
        stream.close()
        p = Pipeline.create()
        p.read_from(Pipeline.from_stream("ev")).with_timestamps(lambda t: t, 0).window(
            tumbling(500)
        ).aggregate(counting()).write_to(Pipeline.to_list("out"))
        provider = InMemoryProvider(streams={"ev": stream})
        run(p, provider, par, executor="inprocess", options=OPTIONS)
        results.append(sorted(provider.lists.get("out", [])))
    assert (
        results[0] == results[1] == sorted(fixed_reference([(0, t) for t in ts], 500, 500, False))
    )
