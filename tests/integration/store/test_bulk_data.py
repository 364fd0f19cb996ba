"""Lists, Maps and Streams write and read in bulk: statements counted, on both databases.

A count, never a timing: ``put_all`` of 10,000 entries runs a handful of statements
whatever the number of entries, where the per-key path ran one per entry.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import event

from headrace import Client
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
