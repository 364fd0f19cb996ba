"""Keyed windows folded by several senders and merged where their keys are owned.

Each sender folds what it reads, hands the windows a watermark closes to the partitions
owning their keys (``Sender._window_shares``: one ``{start: {key: acc}}`` share per
owner, ``FixedWindows.split``), and each owner merges the shares in whatever order they
arrive and emits its windows itself. Whatever the split of the input, the order of
arrival or the number of owners, the windows must be those of one fold over everything.
"""

from __future__ import annotations

import os
import tempfile
from collections import Counter
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from headrace.connectors.memory import InMemoryProvider
from headrace.engine import EngineOptions, run
from headrace.engine.window import FixedWindows
from headrace.pipeline import Pipeline, counting, sliding, summing, to_set, tumbling

SLOW = settings(max_examples=5, deadline=None, suppress_health_check=[HealthCheck.too_slow])
# (key, ts, value) events, any order: many keys, so every owner gets some.
events = st.lists(
    st.tuples(st.integers(0, 40), st.integers(0, 4000), st.integers(-5, 5)), max_size=80
)
OPS = {"counting": counting, "summing": lambda: summing(lambda e: e[2]), "to_set": to_set}
DEFS = {"tumbling": lambda: tumbling(500), "sliding": lambda: sliding(1000, 250)}


def _fold(items: list[Any], definition: Any, op: Any) -> FixedWindows:
    w = FixedWindows(definition, op)
    w.add([e[0] for e in items], items, [e[1] for e in items])
    return w


@given(
    events,
    st.sampled_from(sorted(OPS)),
    st.sampled_from(sorted(DEFS)),
    st.integers(1, 4),
    st.integers(1, 3),
    st.randoms(use_true_random=False),
)
def test_shares_merged_in_any_order_give_one_fold(
    items: list[Any], op_name: str, def_name: str, senders: int, owners: int, rnd: Any
) -> None:
    op, definition = OPS[op_name](), DEFS[def_name]()
    want = sorted(_fold(items, definition, op).close(float("inf")), key=repr)
    shares: list[tuple[int, dict[Any, Any]]] = []
    for s in range(senders):
        sender = _fold(items[s::senders], definition, op)
        split = sender.split(sender.take(float("inf")), owners)
        for o, share in enumerate(split):
            assert all(hash(k) % owners == o for win in share.values() for k in win)
        shares += [(o, share) for o, share in enumerate(split) if share]
    rnd.shuffle(shares)
    merged = [FixedWindows(definition, op) for _ in range(owners)]
    for o, share in shares:
        merged[o].add_partials(share)
    keys = [{k for _s, k in m.slots()} for m in merged]
    assert all(not (a & b) for i, a in enumerate(keys) for b in keys[i + 1 :])
    got = [row for m in merged for row in m.close(float("inf"))]
    assert sorted(got, key=repr) == want
    assert all(m.held() == 0 for m in merged)


@given(events, st.integers(0, 4500))
def test_take_removes_only_the_windows_a_watermark_closes(items: list[Any], wm: int) -> None:
    w = _fold(items, tumbling(500), counting())
    before = w.slots()
    early = w.take(wm)
    assert all(s + 500 <= wm for s in early)
    assert all(s + 500 > wm for s, _k in w.slots())
    assert {(s, k): n for s, win in early.items() for k, n in win.items()} | w.slots() == before
    assert w.take(wm) == {}
    w.add_partials(early)  # handing them back restores the state
    assert w.slots() == before
    rows = w.close(float("inf"))
    assert [r[0] for r in rows] == sorted(r[0] for r in rows)  # in start order


def _windowed(items: list[Any], par: int, executor: str, op: str, kind: str) -> Counter[Any]:
    p = Pipeline.create()
    p.read_from(Pipeline.items(items)).with_timestamps(lambda e: e[1], 300).window(
        DEFS[kind]()
    ).group_by(lambda e: e[0]).aggregate(OPS[op]()).write_to(Pipeline.to_list("out"))
    provider = InMemoryProvider()
    run(p, provider, par, executor=executor, options=EngineOptions(batch_size=7, split_items=9))
    return Counter(tuple(map(_plain, r)) for r in provider.lists.get("out", []))


def _plain(value: Any) -> Any:
    """A set as a sorted tuple: rows compare and count by value."""
    return tuple(sorted(value)) if isinstance(value, set) else value


@SLOW
@given(events, st.sampled_from(sorted(OPS)), st.sampled_from(sorted(DEFS)))
def test_keyed_windows_same_in_processes_at_any_parallelism(
    items: list[Any], op: str, kind: str
) -> None:
    items = sorted(items, key=lambda e: e[1] // 400)  # bounded disorder, within the lag
    want = _windowed(items, 1, "inprocess", op, kind)
    for par in (2, 3):
        assert _windowed(items, par, "processes", op, kind) == want


@given(events, st.sampled_from(sorted(OPS)), st.integers(1, 6))
def test_runs_fold_like_raw_items_and_rows_come_in_start_order(
    items: list[Any], op_name: str, cut: int
) -> None:
    """The fused loop's runs (``add_runs``) fold as ``add`` does, whatever the batches."""
    op, definition = OPS[op_name](), tumbling(500)
    want = _fold(items, definition, op).close(float("inf"))
    w = FixedWindows(definition, op)
    for lo in range(0, len(items), cut):
        batch = items[lo : lo + cut]
        starts: list[int] = []
        positions: list[int] = []
        for i, e in enumerate(batch):
            s = e[1] - e[1] % 500
            if not starts or starts[-1] != s:
                starts.append(s)
                positions.append(i)
        values = None if op.count_keys else batch
        w.add_runs([e[0] for e in batch], values, starts, positions)
    got = w.close(float("inf"))
    assert [r[0] for r in got] == sorted(r[0] for r in got)
    assert sorted(_rows(got), key=repr) == sorted(_rows(want), key=repr)
    assert w.held() == 0


def _rows(rows: list[Any]) -> list[Any]:
    return [tuple(map(_plain, r)) for r in rows]


def _text_windows(path: str, par: int, executor: str) -> Counter[Any]:
    p = Pipeline.create()
    p.read_from(Pipeline.from_text(path)).map(lambda ln: ln.split(",")).with_timestamps(
        lambda e: int(e[1]), 150
    ).window(tumbling(100)).group_by(lambda e: e[0]).aggregate(counting()).write_to(
        Pipeline.to_list("out")
    )
    provider = InMemoryProvider()
    opts = EngineOptions(batch_size=5, split_items=1)  # splits of 64 bytes: many claims
    run(p, provider, par, executor=executor, options=opts)
    return Counter(provider.lists.get("out", []))


@SLOW
@given(st.lists(st.tuples(st.integers(0, 30), st.integers(0, 3000)), min_size=1, max_size=120))
def test_file_windows_out_of_order_same_at_p1_and_p2(events: list[Any]) -> None:
    """Splits claimed as workers read, times out of order (some late): same windows."""
    fd, path = tempfile.mkstemp(suffix=".csv")
    try:
        with os.fdopen(fd, "w") as fh:
            fh.write("".join(f"k{k},{t}\n" for k, t in events))
        want = _text_windows(path, 1, "inprocess")
        assert _text_windows(path, 2, "processes") == want
    finally:
        os.unlink(path)


@given(events, st.sampled_from(sorted(DEFS)))
def test_window_stage_counts_each_window_and_key_it_receives(items: list[Any], kind: str) -> None:
    """Partials count one per (window, key) accumulator, not per window, whatever the layout."""
    p = Pipeline.create()
    p.read_from(Pipeline.items(items)).with_timestamps(lambda e: e[1], 5000).window(
        DEFS[kind]()
    ).group_by(lambda e: e[0]).aggregate(counting()).write_to(Pipeline.to_list("out"))
    provider = InMemoryProvider()
    metrics = run(p, provider, 1, executor="inprocess", options=EngineOptions(batch_size=7))
    (window,) = [m for m in metrics.stages.values() if m.kind == "window"]
    assert window.received == len(provider.lists.get("out", []))  # one sender: no merging
