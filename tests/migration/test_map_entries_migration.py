"""Migration 0017 makes SQLite's Map entries a ``WITHOUT ROWID`` table, from a store filled
by the previous head (0016): the entries of every Map and tenant stay, still in key order,
and the Map reads and writes them as before; the downgrade makes the rowid table again."""

from __future__ import annotations

from alembic_steps import alembic_step

from headrace import Client
from headrace.store.database import Store


def _without_rowid(store: Store) -> bool:
    with store.read() as conn:
        sql = conn.exec_driver_sql(
            "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'data_map_entries'"
        ).scalar_one()
    return "WITHOUT ROWID" in str(sql).upper()


def test_upgrading_from_0016_keeps_every_entry_and_the_map_works(store_url: str) -> None:
    entries = {f"k{i:03d}": i for i in range(300)}
    with Client(store_url, run_workers=False) as client:
        client.get_map("m").put_all(entries)
        client.get_map("other").put_all({"x": b"y"})
        before = client.get_map("m").entries()
    sqlite = store_url.startswith("sqlite")
    store = Store(store_url)
    alembic_step(store, "downgrade", "0016")  # the previous head, as a store deployed today
    if sqlite:
        assert not _without_rowid(store)
    store.close()

    with Client(store_url, run_workers=False) as client:  # migrates to head
        if sqlite:
            assert _without_rowid(client.store)
        m = client.get_map("m")
        assert m.entries() == before  # the same entries, in the same order
        assert m.to_dict() == entries
        assert client.get_map("other").to_dict() == {"x": b"y"}
        m.put_all({"k000": -1, "new": 1})  # an upsert: one replaced, one added
        assert m.get("k000") == -1 and m.get("new") == 1 and len(m) == 301
        assert m.remove("k001") == 1 and "k001" not in m
        after = m.entries()

    store = Store(store_url)
    alembic_step(store, "downgrade", "0016")
    if sqlite:
        assert not _without_rowid(store)
    store.close()
    with Client(store_url, run_workers=False) as client:
        assert client.get_map("m").entries() == after
