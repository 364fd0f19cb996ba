"""Source batches sized by time (``pacing``): durations are given, never measured."""

from __future__ import annotations

from headrace.engine import pacing
from headrace.engine.pacing import Pacer


def test_a_slow_stage_gets_batches_that_fit_the_target() -> None:
    pacer = Pacer(4096, 0.1)
    assert pacer.size == pacing.FIRST_BATCH  # nothing timed yet: a small first batch
    pacer.took(pacer.size, pacer.size * 0.005)  # 5 ms an item
    assert pacer.size == 20  # 0.1 s of items
    pacer.took(20, 20 * 0.05)  # slower still: 50 ms an item
    assert pacer.size == 2
    pacer.took(2, 2.0)  # one item outlasts the target: never fewer than one
    assert pacer.size == 1


def test_a_fast_stage_grows_to_full_batches_at_most_fourfold_a_batch() -> None:
    pacer = Pacer(4096, 0.1)
    sizes = []
    for _ in range(5):
        pacer.took(pacer.size, pacer.size * 1e-6)  # 1 µs an item
        sizes.append(pacer.size)
    assert sizes == [64, 256, 1024, 4096, 4096]


def test_the_target_is_a_fraction_of_the_snapshot_interval() -> None:
    assert pacing.target_sec(None) == pacing.BATCH_TARGET_SEC
    assert pacing.target_sec(60_000) == pacing.BATCH_TARGET_SEC
    assert pacing.target_sec(200) == 0.2 / pacing.BATCHES_PER_INTERVAL
