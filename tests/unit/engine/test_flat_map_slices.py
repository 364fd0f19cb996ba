"""A flat_map chain that folds its output runs batches slice by slice (``FLAT_MAP_SLICE``).

Slicing changes where a batch is cut, never what comes out: results and every stage's
received and emitted counts are the same as running whole batches.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest
from chains import STEPS, pipeline
from hypothesis import given, settings
from hypothesis import strategies as st

from headrace.connectors.memory import InMemoryProvider
from headrace.engine import EngineOptions, run, runtime
from headrace.pipeline import Pipeline, counting

OPTIONS = EngineOptions(batch_size=7, split_items=11)


def _pipeline(xs: list[int], steps: list[str], tail: str) -> Pipeline:
    """The chain with flat_maps of up to 3 items; a keyed tail writes a map of 5 keys."""
    sink = Pipeline.to_list if tail == "list" else Pipeline.to_map
    return pipeline(xs, steps, tail, fan_out=4, keys=5, sink=sink)


def _run(xs: list[int], steps: list[str], tail: str, par: int, step: int) -> tuple[Any, Any]:
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(runtime, "FLAT_MAP_SLICE", step)
        provider = InMemoryProvider()
        metrics = run(_pipeline(xs, steps, tail), provider, par, options=OPTIONS)
    out = provider.maps.get("o") if tail != "list" else sorted(provider.lists.get("o", []))
    chain = ("map", "filter", "flat_map")  # the stages a slice runs through
    counts = {n: (m.received, m.emitted) for n, m in metrics.stages.items() if m.kind in chain}
    return out, counts


@settings(deadline=None)  # the first example compiles chains and imports the engine
@given(
    st.lists(st.integers(0, 50), max_size=60),
    STEPS,
    st.sampled_from(["list", "count", "sum"]),
    st.integers(1, 4),
)
def test_slices_give_what_whole_batches_give(
    xs: list[int], steps: list[str], tail: str, step: int
) -> None:
    for par in (1, 3):
        whole = _run(xs, steps, tail, par, 0)
        assert _run(xs, steps, tail, par, step) == whole, par


def test_a_batch_runs_in_slices_only_through_a_flat_map_chain_that_folds() -> None:
    xs = list(range(20))
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(runtime, "FLAT_MAP_SLICE", 3)
        options = EngineOptions(batch_size=100, split_items=100)
        for kind in ("flat_map", "map"):
            metrics = run(_pipeline(xs, [kind], "count"), InMemoryProvider(), 1, options=options)
            source = metrics.stages["source#0"].batches  # paced: the first batch is small
            got = metrics.stages[f"{kind}#1"].batches
            if kind == "map":
                assert got == source
            else:  # each source batch of b items runs as ceil(b / 3) slices
                assert 7 <= got <= 7 + source - 1 and got > source
        # Output sent on as it is (here to a sink) keeps whole batches: a message each.
        metrics = run(_pipeline(xs, ["flat_map"], "list"), InMemoryProvider(), 1, options=options)
        assert metrics.stages["flat_map#1"].batches == metrics.stages["source#0"].batches


def test_word_count_in_processes_matches_one_partition() -> None:
    lines = [" ".join(f"w{(i * 7 + j) % 37}" for j in range(i % 9)) for i in range(3000)]
    ref = Counter(w for line in lines for w in line.split())
    for par, executor in ((1, "inprocess"), (2, "processes")):
        p = Pipeline.create()
        p.read_from(Pipeline.items(lines)).flat_map(str.split).group_by(lambda w: w).aggregate(
            counting()
        ).write_to(Pipeline.to_map("m"))
        provider = InMemoryProvider()
        run(p, provider, par, executor=executor)
        assert provider.maps["m"] == dict(ref), par
