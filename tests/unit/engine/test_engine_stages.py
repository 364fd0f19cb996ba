"""Every stage against a plain-Python reference, at parallelism 1 and 4 (in process)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from headrace.connectors.memory import InMemoryProvider
from headrace.engine import EngineOptions, run
from headrace.pipeline import (
    Pipeline,
    Stage,
    all_of,
    averaging,
    counting,
    max_by,
    min_by,
    summing,
    to_list,
    to_set,
)

# Small batches and splits so a few dozen items cross many partitions and batches.
OPTIONS = EngineOptions(batch_size=3, split_items=5)
ints = st.lists(st.integers(-50, 50), max_size=60)
words = st.lists(st.sampled_from(["a", "bb", "c", "dd", "e f", "g h i", ""]), max_size=40)


def run_at(
    items: list[Any], build: Callable[[Stage[Any]], Stage[Any]], parallelism: int
) -> list[Any]:
    p = Pipeline.create()
    build(p.read_from(Pipeline.from_list("in", items))).write_to(Pipeline.to_list("out"))
    provider = InMemoryProvider()
    run(p, provider, parallelism, executor="inprocess", options=OPTIONS)
    return provider.lists["out"]


def check(
    items: list[Any],
    build: Callable[[Stage[Any]], Stage[Any]],
    reference: list[Any],
    ordered: bool = False,
) -> None:
    for par in (1, 4):
        got = run_at(items, build, par)
        if ordered:
            assert got == reference, par
        else:
            assert Counter(map(repr, got)) == Counter(map(repr, reference)), par


@given(ints)
def test_map_filter_chain(xs: list[int]) -> None:
    ref = [y + 1 for y in (x * 2 for x in xs) if y % 3 == 0]
    check(
        xs, lambda s: s.map(lambda x: x * 2).filter(lambda x: x % 3 == 0).map(lambda x: x + 1), ref
    )


@given(words)
def test_flat_map_then_filter(lines: list[str]) -> None:
    ref = [w.upper() for line in lines for w in line.split() if len(w) == 1]
    check(lines, lambda s: s.flat_map(str.split).filter(lambda w: len(w) == 1).map(str.upper), ref)


@given(ints)
def test_peek_sees_every_item_and_changes_none(xs: list[int]) -> None:
    seen: list[int] = []
    got = run_at(xs, lambda s: s.peek(seen.append), 1)
    assert sorted(got) == sorted(xs) == sorted(seen)


@given(words)
def test_group_by_alone_emits_key_and_items(lines: list[str]) -> None:
    ref: dict[int, list[str]] = {}
    for line in lines:
        ref.setdefault(len(line), []).append(line)
    for par in (1, 4):
        got = run_at(lines, lambda s: s.group_by(len), par)
        assert {k: sorted(v) for k, v in got} == {k: sorted(v) for k, v in ref.items()}
        assert len(got) == len(ref)


OPS: list[tuple[str, Any, Callable[[list[int]], Any]]] = [
    ("counting", counting(), len),
    ("summing", summing(lambda x: x * 3), lambda g: sum(x * 3 for x in g)),
    ("averaging", averaging(), lambda g: sum(g) / len(g)),
    ("min_by", min_by(abs), lambda g: min(g, key=abs)),
    ("max_by", max_by(), max),
    ("to_set", to_set(), set),
    ("all_of", all_of(counting(), summing()), lambda g: (len(g), sum(g))),
]


@pytest.mark.parametrize(("name", "op", "fn"), OPS, ids=[o[0] for o in OPS])
@settings(max_examples=40)
@given(xs=ints)
def test_keyed_aggregate_operations(
    name: str, op: Any, fn: Callable[[list[int]], Any], xs: list[int]
) -> None:
    groups: dict[int, list[int]] = {}
    for x in xs:
        groups.setdefault(x % 4, []).append(x)
    ref = [(k, fn(g)) for k, g in groups.items()]
    for par in (1, 4):
        got = run_at(xs, lambda s: s.group_by(lambda x: x % 4).aggregate(op), par)
        if name == "min_by":  # ties: any item with the least |x| is right
            assert {k: abs(v) for k, v in got} == {k: abs(v) for k, v in ref}
        else:
            assert sorted(got, key=repr) == sorted(ref, key=repr)


@given(ints)
def test_keyed_to_list_collects_each_group(xs: list[int]) -> None:
    for par in (1, 4):
        got = run_at(xs, lambda s: s.group_by(lambda n: n % 3).aggregate(to_list()), par)
        assert sorted(x for _k, g in got for x in g) == sorted(xs)
        assert all(x % 3 == k for k, g in got for x in g)


@given(ints)
def test_global_aggregate_with_accumulator_and_initial(xs: list[int]) -> None:
    check(
        xs,
        lambda s: s.aggregate(
            accumulator=lambda acc, x: [*acc, x] if x > 0 else acc, initial=[]
        ).map(sorted),
        [sorted(x for x in xs if x > 0)],
    )


@given(ints)
def test_global_counting_on_any_input_emits_one_result(xs: list[int]) -> None:
    check(xs, lambda s: s.aggregate(counting()), [len(xs)])


@given(ints)
def test_distinct(xs: list[int]) -> None:
    check(xs, lambda s: s.distinct(), list(dict.fromkeys(xs)))


@given(ints)
def test_distinct_by_key_keeps_one_item_per_key(xs: list[int]) -> None:
    for par in (1, 4):
        got = run_at(xs, lambda s: s.distinct(abs), par)
        assert sorted(map(abs, got)) == sorted(set(map(abs, xs)))
        assert set(got) <= set(xs)


@given(ints, st.booleans())
def test_sort_is_total_and_ordered(xs: list[int], reverse: bool) -> None:
    ref = sorted(xs, key=lambda x: (abs(x), x), reverse=reverse)
    check(xs, lambda s: s.sort(key_fn=lambda x: (abs(x), x), reverse=reverse), ref, ordered=True)


@given(ints)
def test_map_stateful_running_count_per_key(xs: list[int]) -> None:
    def step(state: list[int], x: int) -> tuple[int, int] | None:
        state[0] += 1
        return (x % 2, state[0]) if state[0] % 2 else None  # None emits nothing

    ref = []
    seen: Counter[int] = Counter()
    for x in xs:
        seen[x % 2] += 1
        if seen[x % 2] % 2:
            ref.append((x % 2, seen[x % 2]))
    # Which item gets which running count depends on arrival order, the multiset not.
    check(xs, lambda s: s.group_by(lambda x: x % 2).map_stateful(lambda: [0], step), ref)


@given(ints)
def test_global_map_stateful_sees_every_item_once(xs: list[int]) -> None:
    def step(state: list[int], x: int) -> int:
        state.append(x)
        return len(state)

    check(xs, lambda s: s.map_stateful(list, step), list(range(1, len(xs) + 1)))


@given(ints, ints)
def test_merge_is_the_union(xs: list[int], ys: list[int]) -> None:
    for par in (1, 4):
        p = Pipeline.create()
        a = p.read_from(Pipeline.from_list("a", xs))
        b = p.read_from(Pipeline.items(ys)).map(lambda y: -y)
        a.merge(b).write_to(Pipeline.to_list("out"))
        provider = InMemoryProvider()
        run(p, provider, par, executor="inprocess", options=OPTIONS)
        assert sorted(provider.lists["out"]) == sorted(xs + [-y for y in ys])


@given(ints, st.lists(st.tuples(st.integers(-5, 5), st.text(max_size=2)), max_size=15))
def test_hash_join_pairs_every_match(xs: list[int], table: list[tuple[int, str]]) -> None:
    ref = [(x, row) for x in xs for row in table if row[0] == x % 6]
    for par in (1, 4):
        p = Pipeline.create()
        other = p.read_from(Pipeline.items(table))
        p.read_from(Pipeline.from_list("in", xs)).hash_join(
            other, lambda x: x % 6, lambda row: row[0]
        ).write_to(Pipeline.to_list("out"))
        provider = InMemoryProvider()
        run(p, provider, par, executor="inprocess", options=OPTIONS)
        assert sorted(provider.lists["out"]) == sorted(ref)


@given(ints)
def test_rebalance_keeps_every_item(xs: list[int]) -> None:
    check(xs, lambda s: s.rebalance().map(lambda x: x + 1), [x + 1 for x in xs])


@given(ints)
def test_branches_each_get_every_item(xs: list[int]) -> None:
    for par in (1, 4):
        p = Pipeline.create()
        s = p.read_from(Pipeline.from_list("in", xs)).map(lambda x: x * 10)
        s.filter(lambda x: x > 0).write_to(Pipeline.to_list("pos"))
        s.aggregate(summing()).write_to(Pipeline.to_list("sum"))
        s.write_to(Pipeline.to_list("all"))
        provider = InMemoryProvider()
        run(p, provider, par, executor="inprocess", options=OPTIONS)
        assert sorted(provider.lists["pos"]) == sorted(x * 10 for x in xs if x > 0)
        assert provider.lists["sum"] == [sum(xs) * 10]
        assert sorted(provider.lists["all"]) == sorted(x * 10 for x in xs)


@given(words)
def test_word_count_into_a_map(lines: list[str]) -> None:
    ref = Counter(w for line in lines for w in line.split())
    for par in (1, 4):
        p = Pipeline.create()
        p.read_from(Pipeline.items(lines)).flat_map(str.split).group_by(lambda w: w).aggregate(
            counting()
        ).write_to(Pipeline.to_map("counts"))
        provider = InMemoryProvider()
        run(p, provider, par, executor="inprocess", options=OPTIONS)
        assert provider.maps.get("counts", {}) == dict(ref)
