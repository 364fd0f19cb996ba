"""An in-process run lets go of its provider (its output, its state) when it returns.

A run's partitions and its worker refer to each other; unless the executor breaks that
cycle, the run's provider, output and operator state stay in memory until Python's
cyclic collector runs, maybe several runs later, in the middle of another run's work.
These tests disable the collector, so only reference counting can free the provider.
"""

from __future__ import annotations

import gc
import weakref
from collections.abc import Iterator

import pytest

from headrace.connectors.memory import InMemoryProvider, MemorySnapshotStore
from headrace.engine import EngineOptions, run
from headrace.pipeline import Pipeline, counting


class Stop(Exception):
    """Stops the run from its control."""


class _StopAtOnce:
    def check(self) -> None:
        raise Stop


@pytest.fixture
def no_cyclic_gc() -> Iterator[None]:
    gc.collect()
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


def _inc(x: int) -> int:
    return x + 1


def _copy() -> Pipeline:
    p = Pipeline.create()
    p.read_from(Pipeline.from_list("src")).map(_inc).write_to(Pipeline.to_list("out"))
    return p


def _counts() -> Pipeline:
    p = Pipeline.create()
    p.read_from(Pipeline.from_list("src")).group_by(lambda x: x % 7).aggregate(counting()).write_to(
        Pipeline.to_map("out")
    )
    return p


@pytest.mark.parametrize("guarantee", ["none", "exactly_once"])
@pytest.mark.parametrize("build", [_copy, _counts])
def test_a_finished_run_is_freed_with_its_provider(
    no_cyclic_gc: None, guarantee: str, build: object
) -> None:
    provider = InMemoryProvider(lists={"src": list(range(1000))})
    store = MemorySnapshotStore(provider) if guarantee != "none" else None
    opts = EngineOptions(batch_size=64, guarantee=guarantee, snapshot_interval_ms=0)  # type: ignore[arg-type]
    run(build(), provider, 1, executor="inprocess", options=opts, snapshots=store)  # type: ignore[operator]
    assert provider.lists.get("out") or provider.maps.get("out")
    gone = weakref.ref(provider)
    del provider, store
    assert gone() is None


def test_a_stopped_run_is_freed_with_its_provider(no_cyclic_gc: None) -> None:
    provider = InMemoryProvider(lists={"src": list(range(1000))})
    with pytest.raises(Stop):
        run(_copy(), provider, 1, _StopAtOnce(), executor="inprocess")
    gone = weakref.ref(provider)
    del provider
    assert gone() is None
