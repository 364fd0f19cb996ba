"""``pickling.dumps_fast``: plain pickle's bytes for data, cloudpickle for the rest."""

from __future__ import annotations

import pickle

import cloudpickle

from headrace.pipeline import pickling


def test_data_pickles_to_the_bytes_cloudpickle_makes() -> None:
    for value in (1, "word", (1, "a", 2.5), {"k": [1, None]}, b"raw"):
        assert pickling.dumps_fast(value) == cloudpickle.dumps(value)


def test_a_lambda_and_a_local_class_travel_by_value() -> None:
    class Local:
        def __init__(self, x: int) -> None:
            self.x = x

    scale = 3
    fn, obj = pickle.loads(pickling.dumps_fast((lambda v: v * scale, Local(7))))
    assert fn(2) == 6 and obj.x == 7
