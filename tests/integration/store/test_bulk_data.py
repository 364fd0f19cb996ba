"""Lists, Maps and Streams write and read in bulk: statements counted, on both databases.

A count, never a timing: ``put_all`` of 10,000 entries runs a handful of statements
whatever the number of entries, where the per-key path ran one per entry.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import event

from headrace import Client, defaults
from headrace.store.data import DataRepository
from headrace.store.database import Store

N = 10_000
#: Statements a bulk operation may run (BEGIN/registration/counter/insert/COMMIT and the
#: like); far below N, and independent of it.
BOUND = 12


@contextmanager
def counted(store: Store) -> Iterator[list[tuple[str, bool]]]:
    """Every statement the store's engine sends meanwhile: (SQL, executemany)."""
    seen: list[tuple[str, bool]] = []

    def record(_c: Any, _cur: Any, sql: str, _p: Any, _ctx: Any, many: bool) -> None:
        seen.append((sql, many))

    event.listen(store.engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(store.engine, "before_cursor_execute", record)


def test_map_put_all_get_all_and_iteration_in_bounded_statements(store_url: str) -> None:
    client = Client(store_url, run_workers=False)
    try:
        m = client.get_map("words")
        with counted(client.store) as seen:
            m.put_all({f"w{i}": i for i in range(N)})
        assert 0 < len(seen) <= BOUND, seen
        with counted(client.store) as seen:
            m.put_all([(f"w{i}", -i) for i in range(0, N, 2)])  # half replaced in place
        assert 0 < len(seen) <= BOUND, seen
        with counted(client.store) as seen:
            got = m.to_dict()
            keys = list(m.keys())
        assert len(seen) <= BOUND, seen
        assert got == {f"w{i}": (-i if i % 2 == 0 else i) for i in range(N)}
        assert sorted(keys) == sorted(f"w{i}" for i in range(N)) and len(m) == N
    finally:
        client.close()


def test_list_add_all_and_iteration_in_bounded_statements(store_url: str) -> None:
    client = Client(store_url, run_workers=False)
    try:
        items = client.get_list("numbers")
        with counted(client.store) as seen:
            items.add_all(range(N))
            items.add_all(range(N, 2 * N))
        assert 0 < len(seen) <= 2 * BOUND, seen
        with counted(client.store) as seen:
            everything = list(items)
        assert len(seen) <= BOUND, seen
        assert everything == list(range(2 * N))
    finally:
        client.close()


def test_stream_publish_all_and_read_in_bounded_statements(store_url: str) -> None:
    client = Client(store_url, run_workers=False)
    try:
        stream = client.get_stream("events", partitions=4)
        with counted(client.store) as seen:
            placed = stream.publish_all(range(N))
            stream.publish_all(range(N, N + 100), key_fn=lambda i: i % 3)  # keyed entries
        assert 0 < len(seen) <= 2 * BOUND, seen
        assert len(set(placed)) == N
        with counted(client.store) as seen:
            read = [stream.read(p, 0, 2 * N) for p in range(4)]
        assert len(seen) <= 4 * BOUND, seen
        assert sorted(v for part in read for v in part) == list(range(N + 100))
        keyed = [e for p in range(4) for e in stream.read_entries(p, 0, 2 * N) if e.key is not None]
        assert sorted(e.value for e in keyed) == list(range(N, N + 100))
        assert all(e.key == e.value % 3 for e in keyed)
    finally:
        client.close()


def entry_writes(seen: list[tuple[str, bool]]) -> list[str]:
    return [sql for sql, _many in seen if "INSERT INTO data_map_entries" in sql]


def test_a_new_maps_first_put_all_inserts_its_entries_and_later_ones_upsert(
    store_url: str,
) -> None:
    client = Client(store_url, run_workers=False)
    try:
        m = client.get_map("fresh")
        with counted(client.store) as seen:  # a later pair of a key wins, new Map or not
            m.put_all([("a", 1), ("b", 2), ("a", 3)])
        first = entry_writes(seen)
        assert first and not any("ON CONFLICT" in sql for sql in first), first
        with counted(client.store) as seen:
            m.put_all([("b", 20), ("c", 30)])
        later = entry_writes(seen)
        assert later and all("ON CONFLICT" in sql for sql in later), later
        assert m.to_dict() == {"a": 3, "b": 20, "c": 30}
        m.clear()  # a cleared Map still exists: its next entries are upserted, and replace
        with counted(client.store) as seen:
            m.put_all([("a", 4)])
        assert all("ON CONFLICT" in sql for sql in entry_writes(seen))
        assert m.to_dict() == {"a": 4}
    finally:
        client.close()


def test_two_first_put_alls_of_one_map_at_once_both_land(store_url: str) -> None:
    """The second waits for the first's Map row, then finds it and upserts: no key error."""
    first, second = Store(store_url), Store(store_url)
    tenant = defaults.TENANT_ID
    errors: list[BaseException] = []

    def put_second() -> None:
        try:
            with second.write() as conn:
                DataRepository(second, tenant).map_put_all(
                    conn, "m", [(b"k2", b"B"), (b"k3", b"C")]
                )
        except BaseException as exc:
            errors.append(exc)

    try:
        thread = threading.Thread(target=put_second)
        with first.write() as conn:
            DataRepository(first, tenant).map_put_all(conn, "m", [(b"k1", b"a"), (b"k2", b"b")])
            thread.start()
            thread.join(0.5)
            assert thread.is_alive()  # it waits for the first's transaction
        thread.join(30)
        assert not thread.is_alive() and errors == []
        with first.read() as conn:
            got = dict(DataRepository(first, tenant).map_entries(conn, "m"))
        assert got == {b"k1": b"a", b"k2": b"B", b"k3": b"C"}
    finally:
        first.close()
        second.close()
