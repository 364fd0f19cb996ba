"""Named Lists, Maps and Streams in the store, on both databases."""

from __future__ import annotations

import threading

import pytest

from headrace import Client, errors

#: Why a test keeps to the embedded client: its values are Python's own.
PYTHON_VALUES = (
    "stores tuples (and tuple keys): over HTTP values travel as JSON, so a tuple comes "
    "back as a list and a remote Map's keys are strings"
)


@pytest.mark.embedded_only(reason=PYTHON_VALUES)
def test_list_append_extend_index_slice_len_clear_iterate(client: Client) -> None:
    items = client.get_list("numbers")
    assert len(items) == 0 and items[:] == []
    items.append({"a": 1})
    items.extend([2, 3.5, "four", (5, 6), None])
    assert len(items) == 6 and items.size() == 6
    assert items.get(0) == {"a": 1} and items[-1] is None and items[4] == (5, 6)
    assert items[1:4] == [2, 3.5, "four"] and items[::2] == [{"a": 1}, 3.5, (5, 6)]
    assert list(items) == [{"a": 1}, 2, 3.5, "four", (5, 6), None]
    with pytest.raises(IndexError):
        items[6]
    items.clear()
    assert len(items) == 0 and list(items) == []
    items.append("again")
    assert items.to_list() == ["again"]


def test_concurrent_appends_get_distinct_positions(client: Client) -> None:
    items = client.get_list("shared")

    def add(start: int) -> None:
        for i in range(start, start + 25):
            items.append(i)

    threads = [threading.Thread(target=add, args=(k * 100,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    got = items.to_list()
    assert sorted(got) == sorted(i for k in range(4) for i in range(k * 100, k * 100 + 25))


@pytest.mark.embedded_only(reason=PYTHON_VALUES)
def test_map_put_get_put_all_entries_keys_remove_len(client: Client) -> None:
    m = client.get_map("output-map")
    m.put("a", 1)
    m.put_all({"b": [2], ("c", 3): {"x": 1}})
    m.put_all([("a", 10), ("a", 11)])
    assert m.get("a") == 11 and m.get("missing", "dflt") == "dflt"
    assert m[("c", 3)] == {"x": 1} and "b" in m and "z" not in m
    assert sorted(m.keys(), key=str) == sorted(["a", "b", ("c", 3)], key=str)
    assert dict(m.entries()) == {"a": 11, "b": [2], ("c", 3): {"x": 1}}
    assert len(m) == 3
    assert m.remove("b") == [2] and m.remove("b") is None and len(m) == 2
    with pytest.raises(KeyError):
        m["b"]


def test_stream_publish_read_offsets_and_keys(client: Client) -> None:
    s = client.get_stream("events", partitions=3)
    assert s.partition_count() == 3 and s.latest_offsets() == {0: 0, 1: 0, 2: 0}
    placed = s.publish_all([{"n": i} for i in range(30)], key_fn=lambda e: e["n"] % 5)
    assert sorted(o for _, o in placed if _ == placed[0][0])[0] == 0
    by_key: dict[int, set[int]] = {}
    for partition in range(3):
        for entry in s.read_entries(partition, 0, 100):
            by_key.setdefault(entry.key, set()).add(partition)
            assert entry.value["n"] % 5 == entry.key
    assert all(len(parts) == 1 for parts in by_key.values())  # one key, one partition
    assert sum(s.latest_offsets().values()) == 30
    p, o = s.publish("late", key=2)
    assert s.read(p, o) == ["late"] and s.end_offset(p) == o + 1
    assert s.read(p, o + 1) == []
    with pytest.raises(errors.InvalidInput) as info:
        client.get_stream("events", partitions=4)
    assert info.value.field == "partitions"
    with pytest.raises(errors.InvalidInput):
        s.read(3)
    assert not s.is_closed()
    s.close()
    assert s.is_closed()


def test_data_survives_a_new_client_and_is_per_tenant(store_url: str) -> None:
    first = Client(store_url, run_workers=False)
    first.get_list("l").extend([1, 2])
    first.get_map("m").put("k", "v")
    first.get_stream("s", partitions=2).publish("e", key="k")
    first.close()
    second = Client(store_url, run_workers=False)
    assert second.get_list("l").to_list() == [1, 2]
    assert second.get_map("m").get("k") == "v"
    s = second.get_stream("s")
    assert s.partition_count() == 2 and sum(s.latest_offsets().values()) == 1
    other = second.for_tenant("cccccccc-cccc-4ccc-8ccc-cccccccccccc")
    assert other.get_list("l").to_list() == [] and other.get_map("m").get("k") is None
    second.close()


def test_bad_names_and_values_are_refused(client: Client) -> None:
    with pytest.raises(errors.InvalidInput) as info:
        client.get_list("")
    assert info.value.field == "name"
    items = client.get_list("x")
    with pytest.raises(errors.InvalidInput) as info:
        items.extend([1, threading.Lock()])
    assert info.value.field == "value"
    assert len(items) == 0
