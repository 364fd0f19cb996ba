"""Elected maintenance: one holder at a time, handed over once its lease lapses."""

from __future__ import annotations

from sqlalchemy import select

from headrace.store import tables
from headrace.store.database import Store
from headrace.store.maintenance import MaintenanceRepository


def test_one_holder_at_a_time_and_a_lapsed_lease_changes_hands(store_url: str) -> None:
    store = Store(store_url)
    a = MaintenanceRepository(store, "host:1")
    b = MaintenanceRepository(store, "host:2")
    assert a.elect(60) and a.elect(60)  # taken, then renewed by its holder
    assert not b.elect(60) and b.run(60) == 0  # held elsewhere: B does nothing
    assert a.elect(-1)  # A renews into the past, as a holder that stopped renewing
    assert b.elect(60) and not a.elect(60)
    with store.read() as conn:
        rows = conn.execute(select(tables.maintenance_leases)).all()
    assert [(r.role, r.holder) for r in rows] == [("maintenance", "host:2")]
    store.close()
