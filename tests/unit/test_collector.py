"""The collector settings of the processes Headrace starts (``headrace.collector``)."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest

from headrace import collector, defaults


@pytest.fixture
def restored() -> Iterator[None]:
    """Leaves this test process's collector as it found it."""
    thresholds = gc.get_threshold()
    gc.unfreeze()
    try:
        yield
    finally:
        gc.unfreeze()
        gc.set_threshold(*thresholds)


@pytest.mark.usefixtures("restored")
def test_freeze_start_up_moves_live_objects_out_of_the_collectors_scans() -> None:
    kept = object.__new__(type("Kept", (), {}))  # a tracked object alive across the call
    collector.freeze_start_up()
    assert gc.get_freeze_count() > 0
    assert all(kept is not o for o in gc.get_objects())  # no generation scans it now
    gc.unfreeze()
    assert any(kept is o for o in gc.get_objects())


@pytest.mark.usefixtures("restored")
def test_serve_jobs_freezes_start_up_and_raises_only_the_young_threshold() -> None:
    gc.set_threshold(700, 11, 12)
    collector.serve_jobs()
    assert gc.get_freeze_count() > 0
    assert gc.get_threshold() == (defaults.SERVING_GC_YOUNG_THRESHOLD, 11, 12)
