"""A first run's snapshot made from uploaded offsets, and when a snapshot cannot seed a run."""

from __future__ import annotations

import pytest

from headrace.connectors.memory import InMemoryProvider
from headrace.engine import EngineOptions, run
from headrace.engine import offsets as engine_offsets
from headrace.pipeline import Pipeline


def copy(extra_stage: bool = False) -> Pipeline:
    p = Pipeline.create()
    stage = p.read_from(Pipeline.from_list("nums", list(range(10))))
    if extra_stage:
        stage = stage.map(lambda x: x)
    stage.write_to(Pipeline.to_list("out"))
    return p


def test_uploaded_offsets_seed_a_first_run_at_those_positions() -> None:
    provider = InMemoryProvider()  # the List is empty: its splits come from the items
    plan, splits = engine_offsets.source_splits(copy(), provider, split_items=4)
    assert engine_offsets.entities(plan, splits) == ["source#0/0", "source#0/1", "source#0/2"]

    blob = engine_offsets.initial(plan, splits, 1, {"source#0/1": "6", "source#0/2": None})
    run(copy(), provider, 1, options=EngineOptions(split_items=4), restore=blob)
    assert list(provider.get_list("out")) == [0, 1, 2, 3, 6, 7, 8, 9]
    assert engine_offsets.read(blob) == {"source#0/1": "6"}

    with pytest.raises(KeyError):
        engine_offsets.initial(plan, splits, 1, {"source#0/3": "1"})


def test_a_snapshot_of_other_stages_or_parallelism_is_named_as_unfit() -> None:
    plan, splits = engine_offsets.source_splits(copy(), InMemoryProvider())
    blob = engine_offsets.initial(plan, splits, 1, {})
    assert engine_offsets.misfit(blob, plan, 1) is None
    other, _ = engine_offsets.source_splits(copy(extra_stage=True), InMemoryProvider())
    assert "stages differ" in (engine_offsets.misfit(blob, other, 1) or "")
    assert "local_parallelism 1" in (engine_offsets.misfit(blob, plan, 2) or "")
