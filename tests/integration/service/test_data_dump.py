"""Batches of stored values: plain pickle where it can, cloudpickle for the rest."""

from __future__ import annotations

import pickle
import sys

import cloudpickle
import pytest

from headrace import errors
from headrace.service import data, encoding


class _Point:
    def __init__(self, x: int) -> None:
        self.x = x


def test_a_batch_stores_the_bytes_dump_stores_one_by_one() -> None:
    values = [1, "a", (2, 3.5), {"k": None}, b"x"]
    assert data.dump_many(values) == [data.dump(v) for v in values]
    assert data.dump_many(values) == [cloudpickle.dumps(v) for v in values]
    assert data.dump_many(iter(values)) == data.dump_many(values)
    assert data.dump_keys(["k", 1]) == [data.dump_key("k"), data.dump_key(1)]


def test_lambdas_and_main_classes_in_a_batch_travel_by_value(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    main = sys.modules["__main__"]
    monkeypatch.setattr(_Point, "__module__", "__main__")
    monkeypatch.setattr(main, "_Point", _Point, raising=False)
    stored = data.dump_many([1, lambda v: v + 1, _Point(4)])
    monkeypatch.delattr(main, "_Point")  # as in another process: no such name in __main__
    one, fn, point = (pickle.loads(b) for b in stored)
    assert one == 1 and fn(1) == 2 and point.x == 4


def test_a_key_that_cannot_be_pickled_is_refused_by_name() -> None:
    with pytest.raises(errors.InvalidInput) as info:
        data.dump_keys(["fine", lambda: 0])
    assert info.value.field == "key"


def test_a_workers_map_rows_are_sorted_by_encoded_key_and_keep_equal_keys_in_order() -> None:
    pairs = [("b", 1), ("a", 2), ("b", 3), ("ccc", 4), ("a", 5)]
    rows = encoding.sorted_map_rows(pairs)
    assert sorted(rows) == sorted(encoding.map_rows(pairs))
    assert [r[0] for r in rows] == sorted(r[0] for r in rows)
    # Stable: of equal keys the later pair stays later, so it still wins when written.
    assert [data.load(v) for k, v in rows if data.load(k) == "b"] == [1, 3]
    assert [data.load(v) for k, v in rows if data.load(k) == "a"] == [2, 5]
    assert encoding.encoder("map") is encoding.sorted_map_rows
