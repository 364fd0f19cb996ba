"""The prefetch policy: what ``auto`` holds beyond a queue's slots, and when it gives up."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from headrace import errors
from headrace.model import prefetch as p


@pytest.mark.parametrize("value", [0, 8, "auto"])
def test_a_number_or_auto_is_a_setting(value: Any) -> None:
    assert p.parse(value) == value


@pytest.mark.parametrize("value", [-1, 1.5, "2", True, None, "AUTO", [8]])
def test_anything_else_is_refused_naming_the_field(value: Any) -> None:
    with pytest.raises(errors.InvalidInput) as caught:
        p.parse(value, "--prefetch")
    assert caught.value.field == "--prefetch"


def test_a_fixed_number_is_held_whatever_the_run_times() -> None:
    assert p.budget(8, 4, None, None) == 8
    assert p.budget(8, 4, 60.0, 600.0) == 8
    assert not p.stalled(8, 8, 600.0)


def test_auto_holds_none_before_it_knows_how_long_jobs_run() -> None:
    assert p.budget(p.AUTO, 8, None, None) == 0


def test_auto_holds_what_the_slots_start_within_the_horizon() -> None:
    # 8 slots of 100 ms jobs start 80 jobs a second: 8 of them within 0.1 s.
    assert p.budget(p.AUTO, 8, 0.1, None) == 8
    # Jobs of a second or more: none is held (8 slots start one per 0.125 s).
    assert p.budget(p.AUTO, 8, 1.0, None) == 0
    # Short jobs: at most ``most_held``.
    assert p.budget(p.AUTO, 8, 0.0001, None) == p.most_held(8)
    assert p.budget(p.AUTO, 8, 0.0, None) == p.most_held(8)


def test_auto_holds_enough_for_a_round_at_a_small_capacity_four_a_slot_at_a_large_one() -> None:
    # A worker's slots must not idle through one claim round: at a small capacity
    # ``ROUND_HELD`` (no more than ``ROUND_PER_SLOT`` a slot), else ``MAX_PER_SLOT`` a slot.
    assert p.most_held(1) == p.ROUND_PER_SLOT == 16
    assert p.most_held(8) == p.ROUND_HELD == 128
    assert p.most_held(50) == p.MAX_PER_SLOT * 50 == 200
    assert all(p.MAX_PER_SLOT * c <= p.most_held(c) <= p.ROUND_PER_SLOT * c for c in range(1, 500))


def test_auto_holds_none_while_every_slot_has_run_a_long_time() -> None:
    """Short jobs in the past, but no slot ended one for 0.2 s: the next may be far off."""
    assert p.budget(p.AUTO, 8, 0.0001, 0.2) == 0
    assert p.budget(p.AUTO, 8, 0.0001, 0.02) == 5


def test_auto_hands_back_held_jobs_once_no_slot_ended_one_for_the_stall_time() -> None:
    assert p.stalled(p.AUTO, 3, p.STALL_SEC)
    assert not p.stalled(p.AUTO, 3, p.STALL_SEC / 2)
    assert not p.stalled(p.AUTO, 0, 60.0)  # nothing held: nothing to hand back
    assert not p.stalled(p.AUTO, 3, None)


def test_a_stalled_queue_would_not_take_back_what_it_handed_back() -> None:
    """After the stall time without an end, ``auto`` holds none: no claim, hand-back loop."""
    assert p.budget(p.AUTO, 1_000, 0.0, p.STALL_SEC) == 0


@given(
    capacity=st.integers(1, 500),
    run=st.floats(0, 3600, allow_nan=False),
    since=st.none() | st.floats(0, 3600, allow_nan=False),
)
def test_auto_stays_between_none_and_its_cap(
    capacity: int, run: float, since: float | None
) -> None:
    held = p.budget(p.AUTO, capacity, run, since)
    assert 0 <= held <= p.most_held(capacity)


def test_the_mean_starts_at_the_first_run_and_follows_later_ones() -> None:
    first = p.mean(None, 2.0)
    assert first == 2.0
    assert first > p.mean(first, 1.0) > 1.0


def test_pacing_holds_by_each_queues_own_run_times() -> None:
    pacing = p.Pacing(p.AUTO, {"fast": 8, "slow": 2})
    assert pacing.held_at_most("fast", 0, 10.0) == 0  # nothing ran yet
    pacing.ended("fast", 0.001, 10.0)
    pacing.ended("slow", 5.0, 10.0)
    assert pacing.held_at_most("fast", 0, 10.0) == p.most_held(8)
    assert pacing.held_at_most("slow", 0, 10.0) == 0
    # Every slot of "fast" taken and none ended for 0.04 s: two jobs start within 0.1 s.
    assert pacing.held_at_most("fast", 8, 10.04) == 2
    assert pacing.held_at_most("fast", 7, 10.04) == p.most_held(8)  # a slot is free


def test_pacing_finds_a_queue_stalled_only_while_it_holds_jobs() -> None:
    pacing = p.Pacing(p.AUTO, {"q": 2})
    pacing.ended("q", 0.001, 100.0)
    later = 100.0 + p.STALL_SEC
    assert pacing.stalled("q", 3, later)  # 2 slots busy, 1 held, no end for STALL_SEC
    assert not pacing.stalled("q", 2, later)  # none held
    assert not pacing.stalled("q", 3, later - 0.5)
    assert not p.Pacing(4, {"q": 2}).stalled("q", 6, later)  # a fixed prefetch holds on


def test_pacing_counts_the_stall_time_from_the_last_claim_too() -> None:
    # A claim round that took longer than STALL_SEC (a lossy link): its jobs arrive long
    # after the last end, and are not handed back before the slots had STALL_SEC for them.
    pacing = p.Pacing(p.AUTO, {"q": 2})
    pacing.ended("q", 0.001, 100.0)
    arrived = 100.0 + 3 * p.STALL_SEC
    pacing.claimed("q", arrived)
    assert not pacing.stalled("q", 3, arrived)
    assert not pacing.stalled("q", 3, arrived + p.STALL_SEC / 2)
    assert pacing.stalled("q", 3, arrived + p.STALL_SEC)  # none ended since they came
    pacing.ended("q", 0.001, arrived + p.STALL_SEC)
    assert not pacing.stalled("q", 3, arrived + p.STALL_SEC)
