"""Splitting folded state by owning partition (``hash(key) % n``) at C speed."""

from __future__ import annotations

from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from headrace.engine import owners
from headrace.engine.owners import Owners

keys = st.one_of(st.integers(-50, 50), st.text(max_size=3), st.tuples(st.integers(0, 3)))


@given(st.dictionaries(keys, st.integers()), st.integers(1, 5))
def test_split_puts_each_entry_with_its_owner_once_in_order(
    mapping: dict[Any, int], n: int
) -> None:
    owner = Owners(n, remember=n % 2 == 0)
    for _ in range(2):  # a second split reads the owners remembered by the first
        shares = owner.split(mapping)
        assert len(shares) == n
        for p, share in enumerate(shares):
            assert all(hash(k) % n == p for k in share)
            assert list(share) == [k for k in mapping if hash(k) % n == p]
        assert {k: v for share in shares for k, v in share.items()} == mapping
        assert sum(map(len, shares)) == len(mapping)


def test_the_memo_starts_afresh_past_its_bound(monkeypatch: Any) -> None:
    monkeypatch.setattr(owners, "MEMO_KEYS", 3)
    owner = Owners(2)
    assert owner.of(range(10)) == [k % 2 for k in range(10)]
    assert owner.of(range(10)) == [k % 2 for k in range(10)]  # remembered
    assert owner.of([11, 12]) == [1, 0]  # cleared, then filled again
    assert owner._memo == {11: 1, 12: 0}


@given(st.dictionaries(keys, st.integers()), st.integers(1, 5), st.integers(0, 4))
def test_split_off_keeps_one_share_in_place_and_the_same_entries(
    mapping: dict[Any, int], n: int, keep: int
) -> None:
    keep %= n
    expected = Owners(n).split(mapping)
    kept = dict(mapping)
    shares = Owners(n, remember=False).split_off(kept, keep)
    assert shares[keep] is kept
    assert [list(share.items()) for share in shares] == [list(share.items()) for share in expected]
