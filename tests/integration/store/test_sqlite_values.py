"""SQLite bulk inserts bind many rows per statement: a count of executions, not a timing."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import event

from headrace import Client
from headrace.store import tables
from headrace.store.dialects import sqlite


def test_map_and_list_rows_go_in_many_rows_per_statement(tmp_path: Path) -> None:
    client = Client(f"sqlite:///{tmp_path}/v.db", run_workers=False)
    executions: list[tuple[str, int]] = []

    def record(_c: Any, _cur: Any, sql: str, params: Any, _ctx: Any, many: bool) -> None:
        executions.append((sql, len(params) if many else 1))

    event.listen(client.store.engine, "before_cursor_execute", record)
    try:
        per = (sqlite.MAX_PARAMS - 2) // 2  # the tenant and the name bound once a statement
        n = 2 * per + 3  # two whole statements' worth, and 3 rows left
        client.get_map("m").put_all({f"k{i}": i for i in range(n)})
        upserts = [k for sql, k in executions if sql.startswith("INSERT INTO data_map_entries")]
        assert upserts == [2, 3]  # 2 statements of 498 rows, 3 of one
        assert not [sql for sql, _k in executions if "temp." in sql]  # no stage
        executions.clear()
        client.get_list("l").extend(range(n))  # the tenant and the name bound once, too
        inserted = [k for sql, k in executions if sql.startswith("INSERT INTO data_list_items")]
        assert inserted == [2, 3]
    finally:
        event.remove(client.store.engine, "before_cursor_execute", record)
    assert client.get_map("m").to_dict() == {f"k{i}": i for i in range(n)}
    assert client.get_list("l").to_list() == list(range(n))
    client.close()


def test_a_keyed_bulk_insert_keeps_the_later_of_equal_keys(tmp_path: Path) -> None:
    # The rows are sorted by key before the upsert: a stable sort, by the key only.
    client = Client(f"sqlite:///{tmp_path}/v.db", run_workers=False)
    store = client.store
    table = tables.map_entries
    fixed = {"tenant_id": "0" * 32, "name": "m"}
    rows = [(b"b", b"1"), (b"a", b"9"), (b"b", b"0"), (b"c", b"5"), (b"a", b"2")]
    with store.write() as conn:
        sqlite.bulk_insert(
            conn, table, fixed, ("key", "value"), rows, key=tuple(table.primary_key.columns.keys())
        )
    with store.read() as conn:
        got = conn.exec_driver_sql("SELECT key, value FROM data_map_entries ORDER BY key").all()
    assert [(bytes(k), bytes(v)) for k, v in got] == [(b"a", b"2"), (b"b", b"0"), (b"c", b"5")]
    client.close()
