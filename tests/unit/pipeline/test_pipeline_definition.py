"""The definition API: descriptors, misuse named by stage, pickling, operations."""

from __future__ import annotations

import pickle

import cloudpickle
import pytest
from hypothesis import given
from hypothesis import strategies as st

import headrace.pipeline as hp
from headrace.connectors.memory import InMemoryProvider
from headrace.errors import PipelineDefinitionError
from headrace.pipeline import Pipeline, counting, tumbling


def test_all_is_pinned() -> None:
    assert set(hp.__all__) >= {
        "Pipeline",
        "Stage",
        "ListSource",
        "MapSource",
        "StreamSource",
        "AggregateOperation",
        "counting",
        "summing",
        "averaging",
        "min_by",
        "max_by",
        "to_list",
        "to_set",
        "all_of",
        "tumbling",
        "sliding",
        "session",
    }
    assert all(hasattr(hp, n) for n in hp.__all__)


def test_seed_example_builds_the_expected_nodes() -> None:
    p = Pipeline.create()
    p.read_from(Pipeline.from_list("numbers", [1, 2, 3])).map(lambda x: x * 2).filter(
        lambda x: x > 4
    ).write_to(Pipeline.to_list("results"))
    assert [n.kind for n in p.nodes] == ["source", "map", "filter", "sink"]
    p.validate(InMemoryProvider())


def test_stage_written_nowhere_is_named() -> None:
    p = Pipeline.create()
    s = p.read_from(Pipeline.items([1]))
    s.map(str).write_to(Pipeline.to_logger())
    s.filter(bool)
    with pytest.raises(PipelineDefinitionError) as info:
        p.validate()
    assert info.value.stage == "filter#3"


@pytest.mark.parametrize(
    "method", ["map", "filter", "flat_map", "peek", "group_by", "sort", "distinct"]
)
def test_non_callable_is_refused_naming_the_stage(method: str) -> None:
    s = Pipeline.create().read_from(Pipeline.items([1]))
    with pytest.raises(PipelineDefinitionError) as info:
        getattr(s, method)(42)
    assert "#1" in info.value.stage and "callable" in str(info.value)


def test_window_on_a_batch_stage_is_refused() -> None:
    s = Pipeline.create().read_from(Pipeline.items([1])).map(str)
    with pytest.raises(PipelineDefinitionError) as info:
        s.window(tumbling(10))
    assert info.value.stage == "map#1"
    with pytest.raises(PipelineDefinitionError):
        s.group_by(len).window(tumbling(10))


@pytest.mark.parametrize(
    ("source", "kind"),
    [
        (Pipeline.from_map("nope"), "Map"),
        (hp.ListSource("nope"), "List"),
    ],
)
def test_unknown_source_name_is_refused_at_validation(
    source: hp.SourceDescriptor, kind: str
) -> None:
    p = Pipeline.create()
    p.read_from(source).write_to(Pipeline.to_logger())
    p.validate()  # without a provider names are not checked
    with pytest.raises(PipelineDefinitionError) as info:
        p.validate(InMemoryProvider())
    assert info.value.stage == "source#0" and kind in str(info.value)


def test_an_unknown_stream_is_not_refused_it_is_created_on_first_read() -> None:
    # Issue 11 item 4: like a Jet journal, a Stream is empty until written.
    p = Pipeline.create()
    p.read_from(hp.StreamSource("fresh")).write_to(Pipeline.to_logger())
    provider = InMemoryProvider()
    p.validate(provider)
    assert not provider.has_stream("fresh")


def test_from_list_need_not_exist_yet() -> None:
    p = Pipeline.create()
    p.read_from(Pipeline.from_list("fresh", [1])).write_to(Pipeline.to_logger())
    p.validate(InMemoryProvider())


def test_aggregate_on_unbounded_stream_and_timestamps_after_shuffle_are_refused() -> None:
    p = Pipeline.create()
    p.read_from(Pipeline.generator(10)).aggregate(counting()).write_to(Pipeline.to_logger())
    with pytest.raises(PipelineDefinitionError, match="window"):
        p.validate()
    q = Pipeline.create()
    q.read_from(Pipeline.items([1])).rebalance().with_timestamps(int).write_to(Pipeline.to_logger())
    with pytest.raises(PipelineDefinitionError, match="follow a source"):
        q.validate()


def test_aggregate_needs_initial_with_an_accumulator() -> None:
    s = Pipeline.create().read_from(Pipeline.items([1]))
    with pytest.raises(PipelineDefinitionError, match="initial"):
        s.aggregate(lambda a, x: a + x)


def test_pipeline_with_lambdas_round_trips_through_cloudpickle() -> None:
    p = Pipeline.create()
    p.read_from(Pipeline.items([1, 2])).map(lambda x: x + 1).write_to(Pipeline.to_list("o"))
    q = pickle.loads(cloudpickle.dumps(p))
    assert [n.kind for n in q.nodes] == [n.kind for n in p.nodes]
    assert q.nodes[1].fn(1) == 2


def test_nodes_are_frozen() -> None:
    p = Pipeline.create()
    p.read_from(Pipeline.items([1])).write_to(Pipeline.to_logger())
    with pytest.raises(AttributeError):
        p.nodes[0].kind = "map"  # type: ignore[misc]


OPS = {
    "counting": (hp.counting(), len),
    "summing": (hp.summing(), sum),
    "min_by": (hp.min_by(), min),
    "max_by": (hp.max_by(), max),
    "to_set": (hp.to_set(), set),
    "averaging": (hp.averaging(), lambda xs: sum(xs) / len(xs)),
}


@pytest.mark.parametrize("name", sorted(OPS))
@given(st.lists(st.integers(-100, 100), min_size=1, max_size=30), st.integers(0, 30))
def test_operations_fold_combine_and_batch_agree(name: str, xs: list[int], cut: int) -> None:
    op, ref = OPS[name]
    left, right = op.create(), op.create()
    for x in xs[:cut]:
        left = op.accumulate(left, x)
    for x in xs[cut:]:
        right = op.accumulate(right, x)
    assert op.combine is not None and op.accumulate_batch is not None
    expected = pytest.approx(ref(xs)) if name == "averaging" else ref(xs)
    assert op.finish(op.combine(left, right)) == expected
    assert op.finish(op.accumulate_batch(op.create(), xs)) == expected
