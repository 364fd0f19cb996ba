"""``HeldGate``: shut while a holder of SQLite's write lock holds it, open with the last."""

from __future__ import annotations

import threading

from headrace.store.dialects.sqlite_lock import HeldGate


def test_the_gate_is_open_until_shut_and_opens_with_the_last_holder() -> None:
    gate = HeldGate()
    assert gate.wait_open(0)
    gate.shut()
    gate.shut()  # a second holder
    assert not gate.wait_open(0.05)
    gate.open()
    assert not gate.wait_open(0)  # one holder left
    gate.open()
    assert gate.wait_open(0)


def test_a_waiter_wakes_when_the_gate_opens() -> None:
    gate = HeldGate()
    gate.shut()
    woke: list[bool] = []
    waiter = threading.Thread(target=lambda: woke.append(gate.wait_open(30)))
    waiter.start()
    waiter.join(0.1)
    assert waiter.is_alive() and woke == []  # still waiting
    gate.open()
    waiter.join(30)
    assert woke == [True]
