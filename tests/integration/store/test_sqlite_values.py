"""SQLite bulk inserts bind many rows per statement: a count of executions, not a timing."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import event

from headrace import Client
from headrace.store.dialects import sqlite


def test_map_and_list_rows_go_in_many_rows_per_statement(tmp_path: Path) -> None:
    client = Client(f"sqlite:///{tmp_path}/v.db", run_workers=False)
    executions: list[tuple[str, int]] = []

    def record(_c: Any, _cur: Any, sql: str, params: Any, _ctx: Any, many: bool) -> None:
        executions.append((sql, len(params) if many else 1))

    event.listen(client.store.engine, "before_cursor_execute", record)
    try:
        n = 2 * (sqlite.MAX_PARAMS // 2) + 3  # two whole statements' worth, and 3 rows left
        client.get_map("m").put_all({f"k{i}": i for i in range(n)})
        staged = [(sql, k) for sql, k in executions if sql.startswith("INSERT INTO temp.")]
        assert [k for _sql, k in staged] == [2, 3]  # 2 statements of 499 rows, 3 of one
        executions.clear()
        client.get_list("l").extend(range(n))  # 4 columns: 249 rows a statement
        inserted = [k for sql, k in executions if sql.startswith("INSERT INTO data_list_items")]
        assert sum(inserted) == n // (sqlite.MAX_PARAMS // 4) + n % (sqlite.MAX_PARAMS // 4)
    finally:
        event.remove(client.store.engine, "before_cursor_execute", record)
    assert client.get_map("m").to_dict() == {f"k{i}": i for i in range(n)}
    assert client.get_list("l").to_list() == list(range(n))
    client.close()
