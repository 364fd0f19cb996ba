"""The keying step fused into a chain's loop, and the warm pool of worker processes."""

from __future__ import annotations

from collections import Counter, defaultdict
from typing import Any

import chains
import pytest
from hypothesis import given
from hypothesis import strategies as st

from headrace.connectors.memory import InMemoryProvider
from headrace.engine import EngineOptions, UserFunctionError, run
from headrace.engine.executors import pool as pools
from headrace.engine.executors import processes
from headrace.engine.plan import build_plan
from headrace.engine.runtime import _tail
from headrace.pipeline import Pipeline, counting, summing, tumbling

OPTIONS = EngineOptions(batch_size=3, split_items=5)
events = st.lists(st.tuples(st.integers(0, 3), st.integers(0, 4000)), max_size=40)


def _run(p: Pipeline, par: int, executor: str = "inprocess") -> InMemoryProvider:
    provider = InMemoryProvider()
    run(p, provider, par, executor=executor, options=OPTIONS)
    return provider


def test_tails_chosen_for_the_only_output_edge() -> None:
    p = Pipeline.create()
    src = p.read_from(Pipeline.items([1]))
    src.map(str).group_by(len).aggregate(counting()).write_to(Pipeline.to_list("a"))
    q = Pipeline.create()
    q.read_from(Pipeline.items([1])).map(str).group_by(len).aggregate(summing(len)).write_to(
        Pipeline.to_list("b")
    )
    r = Pipeline.create()
    r.read_from(Pipeline.items([(1, 2)])).with_timestamps(lambda e: e[1], 0).window(
        tumbling(10)
    ).aggregate(counting()).write_to(Pipeline.to_list("c"))
    f = Pipeline.create()
    f.read_from(Pipeline.items(["a b"])).flat_map(str.split).group_by(len).aggregate(
        counting()
    ).write_to(Pipeline.to_list("d"))
    kinds = [_tail(plan, plan.vertices[0]).kind for plan in map(build_plan, (p, q, r, f))]
    assert kinds == ["keys", "pairs", "slots", "items"]


@given(events)
def test_fused_window_slots_match_reference_for_counts_and_sums(items: list[Any]) -> None:
    items = sorted(items, key=lambda e: e[1])
    ref_c: dict[tuple[int, int], int] = defaultdict(int)
    ref_s: dict[tuple[int, int], int] = defaultdict(int)
    for k, t in items:
        ref_c[(t - t % 1000, k)] += 1
        ref_s[(t - t % 1000, k)] += t
    for par in (1, 3):
        p = Pipeline.create()
        timed = p.read_from(Pipeline.items(items)).map(tuple).with_timestamps(lambda e: e[1], 0)
        timed.window(tumbling(1000)).group_by(lambda e: e[0]).aggregate(counting()).write_to(
            Pipeline.to_list("c")
        )
        timed2 = p.read_from(Pipeline.items(items)).map(tuple).with_timestamps(lambda e: e[1], 0)
        timed2.window(tumbling(1000)).group_by(lambda e: e[0]).aggregate(
            summing(lambda e: e[1])
        ).write_to(Pipeline.to_list("s"))
        prov = _run(p, par)
        got_c = {(s, k): c for s, e, k, c in prov.lists.get("c", [])}
        got_s = {(s, k): c for s, e, k, c in prov.lists.get("s", [])}
        assert got_c == dict(ref_c) and got_s == dict(ref_s), par
        assert all(e - s == 1000 for s, e, _k, _c in prov.lists.get("c", []))


@given(events)
def test_fused_window_runs_follow_unordered_event_times(items: list[Any]) -> None:
    # Times in any order (a lag that makes nothing late): a batch holds many runs of
    # one window start each, down to one item per run.
    ref: dict[tuple[int, int], list[int]] = defaultdict(lambda: [0, 0])
    for k, t in items:
        ref[(t - t % 100, k)][0] += 1
        ref[(t - t % 100, k)][1] += t
    for par in (1, 2):
        p = Pipeline.create()
        for out in ("c", "s"):  # two sources: each chain has one output edge, fused
            timed = (
                p.read_from(Pipeline.items(items)).map(tuple).with_timestamps(lambda e: e[1], 5000)
            )
            op = counting() if out == "c" else summing(lambda e: e[1])
            timed.window(tumbling(100)).group_by(lambda e: e[0]).aggregate(op).write_to(
                Pipeline.to_list(out)
            )
        plan = build_plan(p)
        sources = [v for v in plan.vertices if v.head is not None and v.head.kind == "source"]
        assert [_tail(plan, v).kind for v in sources] == ["slots", "slots"]
        prov = _run(p, par)
        got_c = {(s, k): c for s, _e, k, c in prov.lists.get("c", [])}
        got_s = {(s, k): c for s, _e, k, c in prov.lists.get("s", [])}
        assert got_c == {slot: c for slot, (c, _s) in ref.items()}, par
        assert got_s == {slot: s for slot, (_c, s) in ref.items()}, par


@given(st.lists(st.integers(-20, 20), max_size=40))
def test_fused_pairs_for_distinct_and_keyed_sums(xs: list[int]) -> None:
    for par in (1, 4):
        p = Pipeline.create()
        src = p.read_from(Pipeline.items(xs))
        src.map(lambda x: x * 3).distinct(lambda x: x % 7).map(lambda x: x % 7).write_to(
            Pipeline.to_list("d")
        )
        src.map(lambda x: x + 1).group_by(lambda x: x % 5).aggregate(summing()).write_to(
            Pipeline.to_map("s")
        )
        prov = _run(p, par)
        assert sorted(prov.lists.get("d", [])) == sorted({x * 3 % 7 for x in xs})
        ref: dict[int, int] = defaultdict(int)
        for x in xs:
            ref[(x + 1) % 5] += x + 1
        assert prov.maps.get("s", {}) == dict(ref)


def _bad_key(x: int) -> int:
    return 1 // (x - 3)


@pytest.mark.parametrize("agg", [counting, summing])
def test_error_in_a_fused_key_function_names_the_next_stage(agg: Any) -> None:
    p = Pipeline.create()
    p.read_from(Pipeline.items(range(10))).map(lambda x: x + 1).group_by(_bad_key).aggregate(
        agg()
    ).write_to(Pipeline.to_list("out"))
    with pytest.raises(UserFunctionError) as info:
        run(p, InMemoryProvider(), 1)
    assert info.value.stage == "aggregate#2" and info.value.item == "3"
    assert "_bad_key" in info.value.traceback_text


def test_error_in_a_fused_window_key_names_the_window() -> None:
    p = Pipeline.create()
    p.read_from(Pipeline.items(range(10))).with_timestamps(lambda x: x, 0).window(
        tumbling(5)
    ).group_by(_bad_key).aggregate(counting()).write_to(Pipeline.to_list("out"))
    with pytest.raises(UserFunctionError) as info:
        run(p, InMemoryProvider(), 1)
    assert info.value.stage.startswith("window") and info.value.item == "3"


def test_flat_map_ending_a_chain_counts_what_it_emits() -> None:
    p = Pipeline.create()
    p.read_from(Pipeline.items(["a b", "", "c d e"])).filter(bool).flat_map(str.split).group_by(
        lambda w: w
    ).aggregate(counting()).write_to(Pipeline.to_map("m"))
    prov = InMemoryProvider()
    metrics = run(p, prov, 1, options=OPTIONS)
    assert prov.maps["m"] == dict.fromkeys("abcde", 1)
    fm = metrics.stages["flat_map#2"]
    assert (fm.received, fm.emitted) == (2, 5)
    flt = metrics.stages["filter#1"]
    assert (flt.received, flt.emitted) == (3, 2)


def test_pool_is_reused_and_results_stay_the_same() -> None:
    counts = Counter(w for line in ["a b", "b c c"] * 20 for w in line.split())
    pids: list[tuple[int, ...]] = []
    for par in (2, 2, 3, 2):
        p = Pipeline.create()
        p.read_from(Pipeline.items(["a b", "b c c"] * 20)).flat_map(str.split).group_by(
            lambda w: w
        ).aggregate(counting()).write_to(Pipeline.to_map("m"))
        prov = _run(p, par, "processes")
        assert prov.maps["m"] == dict(counts)
        pool = pools.idle()
        assert pool is not None
        pids.append(tuple(proc.pid for proc in pool.procs))
    assert pids[0] == pids[1]  # the same processes served the second run
    assert pids[2] == pids[3]  # a bigger pool serves smaller runs too
    processes.shutdown_pool()
    assert pools.idle() is None


@given(st.lists(st.integers(0, 50), max_size=30), chains.STEPS, st.sampled_from(["list", "count"]))
def test_every_fused_stage_counts_what_it_received_and_emitted(
    xs: list[int], steps: list[str], tail: str
) -> None:
    # The last stage that changes the count keeps no counter: its count is derived.
    # A "count" tail fuses the keying step into the loop.
    p = chains.pipeline(xs, steps, tail, fan_out=3, keys=2)
    metrics = run(p, InMemoryProvider(), 1, options=OPTIONS)
    got = [
        (metrics.stages[f"{step}#{i}"].received, metrics.stages[f"{step}#{i}"].emitted)
        for i, step in enumerate(steps, start=1)
    ]
    assert got == chains.stage_counts(xs, steps, fan_out=3)
