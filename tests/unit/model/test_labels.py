"""Labels: spelled as lower-case words, deduplicated and sorted, stored comma-framed."""

from __future__ import annotations

import pytest

from headrace import errors
from headrace.model import labels


def test_labels_parse_from_text_or_a_list_sorted_and_once() -> None:
    assert labels.parse("labels", "gpu, eu,gpu") == ("eu", "gpu")
    assert labels.parse("labels", ["ssd_1", "eu-west"]) == ("eu-west", "ssd_1")
    assert labels.parse("labels", None) == () == labels.parse("labels", "")


@pytest.mark.parametrize("bad", ["GPU", "a b", "x'", "-lead", "a" * 64, "é"])
def test_a_label_that_is_not_a_lower_case_word_is_refused_naming_the_field(bad: str) -> None:
    with pytest.raises(errors.InvalidInput) as caught:
        labels.parse("worker.labels", [bad])
    assert caught.value.field == "worker.labels" and repr(bad) in str(caught.value)


def test_more_than_the_most_labels_is_refused() -> None:
    with pytest.raises(errors.InvalidInput, match="at most 16 labels"):
        labels.parse("labels", [f"l{i}" for i in range(17)])


def test_stored_form_round_trips_and_no_labels_is_null() -> None:
    assert labels.encode(("eu", "gpu")) == ",eu,gpu,"
    assert labels.decode(",eu,gpu,") == ("eu", "gpu")
    assert labels.encode(()) is None and labels.decode(None) == ()


def test_a_worker_satisfies_a_job_when_it_offers_every_required_label() -> None:
    assert labels.satisfies(("eu", "gpu"), ("gpu",))
    assert labels.satisfies(("eu",), ())
    assert not labels.satisfies(("eu",), ("eu", "gpu"))
    assert labels.missing(("eu",), ("gpu", "eu", "arm")) == ("arm", "gpu")
