"""Source feeds: splits dealt up front or claimed at read time, saved and restored."""

from __future__ import annotations

import random
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from headrace.connectors.memory import InMemoryProvider
from headrace.engine.feed import INF, SourceFeed
from headrace.pipeline import Pipeline


class LocalClaims:
    """The shared ticket counters, in one process."""

    def __init__(self) -> None:
        self.tickets: dict[int, int] = {}

    def claim(self, vertex: int) -> int:
        ticket = self.tickets.get(vertex, 0)
        self.tickets[vertex] = ticket + 1
        return ticket

    def issued(self, vertex: int) -> int:
        return self.tickets.get(vertex, 0)


def source(n: int) -> tuple[Any, list[Any]]:
    p = Pipeline.create()
    node = p.node(p.read_from(Pipeline.items(range(n))).node_id)
    return node, [(lo, min(lo + 7, n)) for lo in range(0, n, 7)]


def feeds(n: int, parts: int, claims: LocalClaims | None) -> list[SourceFeed]:
    node, splits = source(n)
    provider = InMemoryProvider()
    return [SourceFeed(node, splits, provider, p, parts, claims, 0) for p in range(parts)]


def drain(fs: list[SourceFeed], rng: random.Random, steps: int | None = None) -> list[int]:
    """Reads batches from randomly chosen feeds (all to their end when ``steps`` is None)."""
    out: list[int] = []
    while steps is None or steps > 0:
        live = [f for f in fs if not f.finished]
        if not live:
            break
        got = rng.choice(live).next(3)
        if got is not None:
            out.extend(got[1])
        if steps is not None:
            steps -= 1
    return out


@settings(max_examples=60, deadline=None)
@given(st.integers(0, 60), st.integers(1, 4), st.booleans(), st.integers(0, 2**32))
def test_every_item_is_read_once_however_the_feeds_interleave(
    n: int, parts: int, claimed: bool, seed: int
) -> None:
    fs = feeds(n, parts, LocalClaims() if claimed else None)
    assert sorted(drain(fs, random.Random(seed))) == list(range(n))
    assert all(f.finished for f in fs)


@settings(max_examples=80, deadline=None)
@given(
    st.integers(1, 60),
    st.integers(1, 3),
    st.booleans(),
    st.booleans(),
    st.integers(0, 40),
    st.integers(0, 2**32),
)
def test_a_restored_run_reads_exactly_what_the_snapshot_had_not(
    n: int, parts: int, claimed_before: bool, claimed_after: bool, steps: int, seed: int
) -> None:
    rng = random.Random(seed)
    before = feeds(n, parts, LocalClaims() if claimed_before else None)
    head = drain(before, rng, steps)
    merged: dict[int, Any] = {}
    cursors = {}
    for p, f in enumerate(before):
        cursors[p], states = f.export_state()
        merged.update(states)  # the union the engine's snapshot keeps
    after = feeds(n, parts, LocalClaims() if claimed_after else None)
    for p, f in enumerate(after):
        f.import_state(cursors[p], merged)
    tail = drain(after, rng)
    assert sorted(head + tail) == list(range(n))


def test_a_claimed_feed_holds_its_watermark_while_tickets_are_left() -> None:
    claims = LocalClaims()
    a, b = feeds(14, 2, claims)  # two splits
    assert a.splits == [] and a.watermark(5, 0) == -INF  # nothing claimed yet
    got = a.next(10)
    assert got is not None
    got[0].tstate[5] = [100]
    assert a.watermark(5, 0) == -INF  # split 1 is nobody's yet
    assert b.next(10) is not None  # b takes it: every split is someone's now
    b.splits[0].tstate[5] = [50]
    assert a.watermark(5, 10) == 90
    assert b.watermark(5, 10) == 40
