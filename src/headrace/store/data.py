"""Named Lists, Maps and Streams in the store; values are opaque bytes (pickles).

Every operation takes the connection it runs on, so a caller can put several in one
transaction (an exactly-once sink commits its output with its snapshot).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, Select, delete, func, select, update

from headrace import errors
from headrace.model.clock import now_ms
from headrace.store import tables
from headrace.store.database import Store

L, LI = tables.lists, tables.list_items
M, ME = tables.maps, tables.map_entries
SP, SE = tables.stream_partitions, tables.stream_entries


def driver_rows(conn: Connection, stmt: Select[Any]) -> Sequence[Any]:
    """Every row of ``stmt`` as the driver's tuples, fetched in one call.

    For reads of many rows (a Map's entries, a List's slice, a Stream's batch): their
    columns (bytes and integers) need none of SQLAlchemy's per-row processing, and its
    row-by-row fetch cost as much as the driver's read itself (a 10,000-entry Map on
    SQLite: ~5 of 15 ms).
    """
    result = conn.execute(stmt)
    try:
        return result.cursor.fetchall()
    finally:
        result.close()


class DataRepository:
    """The rows behind one tenant's named data structures."""

    def __init__(self, store: Store, tenant_id: str) -> None:
        self.store = store
        self.tenant_id = tenant_id

    # -- lists --------------------------------------------------------------------------

    def list_exists(self, conn: Connection, name: str) -> bool:
        """Whether a List of this name exists."""
        found = conn.execute(
            select(L.c.length).where(L.c.tenant_id == self.tenant_id, L.c.name == name)
        )
        return found.first() is not None

    def list_length(self, conn: Connection, name: str) -> int:
        """How many items the List holds (0 if it does not exist)."""
        found = conn.execute(
            select(L.c.length).where(L.c.tenant_id == self.tenant_id, L.c.name == name)
        ).scalar()
        return int(found or 0)

    def list_extend(self, conn: Connection, name: str, values: Sequence[bytes]) -> int:
        """Append values; returns the position of the first (positions come from a counter)."""
        conn.execute(
            self.store.dialect.insert_ignoring_conflicts(L).values(
                tenant_id=self.tenant_id, name=name, length=0
            )
        )
        if not values:
            return self.list_length(conn, name)
        end = conn.execute(
            update(L)
            .where(L.c.tenant_id == self.tenant_id, L.c.name == name)
            .values(length=L.c.length + len(values))
            .returning(L.c.length)
        ).scalar_one()
        start = int(end) - len(values)
        self.store.dialect.bulk_insert(
            conn,
            LI,
            {"tenant_id": self.tenant_id, "name": name},
            ("position", "value"),
            list(zip(range(start, start + len(values)), values, strict=True)),
        )
        return start

    def list_slice(self, conn: Connection, name: str, start: int, stop: int) -> list[bytes]:
        """The values at positions ``start <= position < stop``, in order."""
        rows = driver_rows(
            conn,
            select(LI.c.value)
            .where(
                LI.c.tenant_id == self.tenant_id,
                LI.c.name == name,
                LI.c.position >= start,
                LI.c.position < stop,
            )
            .order_by(LI.c.position),
        )
        return [v for (v,) in rows]

    def list_clear(self, conn: Connection, name: str) -> None:
        """Remove every item (the List still exists, empty)."""
        conn.execute(delete(LI).where(LI.c.tenant_id == self.tenant_id, LI.c.name == name))
        conn.execute(
            update(L).where(L.c.tenant_id == self.tenant_id, L.c.name == name).values(length=0)
        )

    # -- maps ---------------------------------------------------------------------------

    def map_exists(self, conn: Connection, name: str) -> bool:
        """Whether a Map of this name exists."""
        found = conn.execute(
            select(M.c.name).where(M.c.tenant_id == self.tenant_id, M.c.name == name)
        )
        return found.first() is not None

    def map_put_all(
        self, conn: Connection, name: str, entries: Sequence[tuple[bytes, bytes]]
    ) -> None:
        """Insert or replace entries (a later entry of the same key wins).

        A Map this statement creates has no entries (only this method writes them, and a
        Map is never removed, only cleared), so its first entries go in without the upsert's
        search for an existing key. A concurrent first put of the same Map waits on the
        uncommitted Map row, then finds it and upserts.
        """
        created = conn.execute(
            self.store.dialect.insert_ignoring_conflicts(M)
            .values(tenant_id=self.tenant_id, name=name)
            .returning(M.c.name)
        ).first()
        last = dict(entries)  # one row per key, or the upsert would hit the same row twice
        self.store.dialect.bulk_insert(
            conn,
            ME,
            {"tenant_id": self.tenant_id, "name": name},
            ("key", "value"),
            list(last.items()),
            key=("tenant_id", "name", "key"),
            new=created is not None,
        )

    def map_get(self, conn: Connection, name: str, key: bytes) -> bytes | None:
        """The value under ``key``, or None."""
        found = conn.execute(
            select(ME.c.value).where(
                ME.c.tenant_id == self.tenant_id, ME.c.name == name, ME.c.key == key
            )
        ).scalar()
        return None if found is None else bytes(found)

    def map_remove(self, conn: Connection, name: str, key: bytes) -> bytes | None:
        """Remove ``key``; returns the value it had, or None."""
        old = self.map_get(conn, name, key)
        conn.execute(
            delete(ME).where(ME.c.tenant_id == self.tenant_id, ME.c.name == name, ME.c.key == key)
        )
        return old

    def map_entries(self, conn: Connection, name: str) -> Sequence[tuple[bytes, bytes]]:
        """Every ``(key, value)``."""
        rows = driver_rows(
            conn,
            select(ME.c.key, ME.c.value).where(ME.c.tenant_id == self.tenant_id, ME.c.name == name),
        )
        return rows  # both drivers give bytes for a binary column

    def map_size(self, conn: Connection, name: str) -> int:
        """How many entries the Map holds."""
        return int(
            conn.execute(
                select(func.count())
                .select_from(ME)
                .where(ME.c.tenant_id == self.tenant_id, ME.c.name == name)
            ).scalar_one()
        )

    def map_clear(self, conn: Connection, name: str) -> None:
        """Remove every entry."""
        conn.execute(delete(ME).where(ME.c.tenant_id == self.tenant_id, ME.c.name == name))

    # -- streams ------------------------------------------------------------------------

    def stream_partitions(self, conn: Connection, name: str) -> int:
        """How many partitions the Stream has (0 if it does not exist)."""
        return int(
            conn.execute(
                select(func.count())
                .select_from(SP)
                .where(SP.c.tenant_id == self.tenant_id, SP.c.name == name)
            ).scalar_one()
        )

    def stream_create(self, conn: Connection, name: str, partitions: int | None) -> int:
        """Create the Stream if missing; returns its partition count.

        Raises:
            InvalidInput: ``partitions`` differs from an existing Stream's, or is < 1.
        """
        existing = self.stream_partitions(conn, name)
        if existing:
            if partitions is not None and partitions != existing:
                msg = f"stream {name!r} has {existing} partitions, not {partitions}"
                msg_0 = "partitions"
                raise errors.InvalidInput(msg_0, msg)
            return existing
        count = 1 if partitions is None else partitions
        if not isinstance(count, int) or count < 1:
            msg_0 = "partitions"
            raise errors.InvalidInput(msg_0, f"must be an int >= 1, got {partitions!r}")
        conn.execute(
            self.store.dialect.insert_ignoring_conflicts(SP),
            [
                {"tenant_id": self.tenant_id, "name": name, "partition": p, "next_offset": 0}
                for p in range(count)
            ],
        )
        return self.stream_partitions(conn, name)

    def stream_append(
        self, conn: Connection, name: str, entries: Sequence[tuple[int, bytes | None, bytes]]
    ) -> list[tuple[int, int]]:
        """Append ``(partition, key, value)`` entries; returns each one's (partition, offset)."""
        by_partition: dict[int, list[tuple[bytes | None, bytes]]] = {}
        for partition, key, value in entries:
            by_partition.setdefault(partition, []).append((key, value))
        at = now_ms()
        placed: dict[int, int] = {}
        rows: list[tuple[int, int, bytes | None, bytes]] = []
        for partition, items in sorted(by_partition.items()):
            end = conn.execute(
                update(SP)
                .where(
                    SP.c.tenant_id == self.tenant_id, SP.c.name == name, SP.c.partition == partition
                )
                .values(next_offset=SP.c.next_offset + len(items))
                .returning(SP.c.next_offset)
            ).scalar()
            if end is None:
                raise errors.NotFound("stream partition", f"{name}/{partition}")
            placed[partition] = int(end) - len(items)
            rows += [
                (partition, placed[partition] + i, key, value)
                for i, (key, value) in enumerate(items)
            ]
        self.store.dialect.bulk_insert(
            conn,
            SE,
            {"tenant_id": self.tenant_id, "name": name, "at_ms": at},
            ("partition", "offset", "key", "value"),
            rows,
        )
        counters = dict(placed)
        out = []
        for partition, _key, _value in entries:
            out.append((partition, counters[partition]))
            counters[partition] += 1
        return out

    def stream_read(
        self, conn: Connection, name: str, partition: int, offset: int, limit: int
    ) -> list[tuple[int, bytes | None, bytes]]:
        """Up to ``limit`` ``(offset, key, value)`` entries of a partition from ``offset``."""
        rows = driver_rows(
            conn,
            select(SE.c.offset, SE.c.key, SE.c.value)
            .where(
                SE.c.tenant_id == self.tenant_id,
                SE.c.name == name,
                SE.c.partition == partition,
                SE.c.offset >= offset,
            )
            .order_by(SE.c.offset)
            .limit(limit),
        )
        return [(int(o), None if k is None else bytes(k), bytes(v)) for o, k, v in rows]

    def stream_end_offsets(self, conn: Connection, name: str) -> dict[int, int]:
        """Each partition's next offset (its "latest" position)."""
        rows = conn.execute(
            select(SP.c.partition, SP.c.next_offset).where(
                SP.c.tenant_id == self.tenant_id, SP.c.name == name
            )
        )
        return {int(p): int(o) for p, o in rows}

    def stream_close(self, conn: Connection, name: str) -> None:
        """Mark the Stream closed: readers may end once they reach its end."""
        conn.execute(
            update(SP)
            .where(SP.c.tenant_id == self.tenant_id, SP.c.name == name)
            .values(closed=True)
        )

    def stream_closed(self, conn: Connection, name: str) -> bool:
        """Whether the Stream has been closed."""
        found = conn.execute(
            select(SP.c.closed).where(SP.c.tenant_id == self.tenant_id, SP.c.name == name).limit(1)
        ).scalar()
        return bool(found)
