from __future__ import annotations

from types import SimpleNamespace as Item

import pytest

from headrace import errors
from headrace.model.seekable import SeekableList, attributes


def items() -> SeekableList[Item]:
    filters = {**attributes("name", "version"), "tag": lambda item, tag: tag in item.tags}
    return SeekableList(
        [
            Item(name="a", version=1, tags=["x"]),
            Item(name="b", version=2, tags=["x", "y"]),
            Item(name="a", version=3, tags=[]),
        ],
        kind="job",
        filters=filters,
    )


def test_get_is_the_first_match_and_get_all_every_match_in_order() -> None:
    found = items()
    assert found.get(name="a").version == 1
    assert [i.version for i in found.get_all(name="a")] == [1, 3]
    assert [i.version for i in found.get_all(tag="x")] == [1, 2]
    assert found.get(name="b", tag="y").version == 2
    assert [i.version for i in found.get_all()] == [1, 2, 3]


def test_values_match_as_strings_too() -> None:
    # The seeds pass versions as strings (``commits.get(version='1')``).
    assert items().get(version="2").name == "b"


def test_get_all_keeps_the_filters() -> None:
    subset = items().get_all(tag="x")
    assert isinstance(subset, SeekableList)
    assert subset.get(name="b").version == 2
    assert subset.get_all(name="c") == []


def test_get_of_nothing_is_a_value_error_naming_the_filters() -> None:
    with pytest.raises(ValueError, match="no job matches name='c'") as info:
        items().get(name="c")
    assert isinstance(info.value, errors.NoMatch) and isinstance(info.value, errors.NotFound)
    assert info.value.filters == {"name": "c"} and info.value.kind == "job"


@pytest.mark.parametrize("call", ["get", "get_all"])
def test_an_unknown_filter_is_named(call: str) -> None:
    with pytest.raises(errors.InvalidInput, match="job has no filter 'colour'") as info:
        getattr(items(), call)(colour="red")
    assert info.value.field == "colour"
    # Refused even where no item could have matched anyway.
    with pytest.raises(errors.InvalidInput):
        getattr(SeekableList([], kind="job", filters={}), call)(colour="red")


def test_it_is_a_list() -> None:
    found = items()
    assert len(found) == 3 and found[0].version == 1 and list(found)[-1].version == 3
