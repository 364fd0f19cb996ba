"""``headrace server`` leaves start-up's objects out of the collector's full collections."""

from __future__ import annotations

import gc

from headrace.api import server


def test_freeze_start_up_moves_live_objects_out_of_the_collectors_scans() -> None:
    gc.unfreeze()
    kept = object.__new__(type("Kept", (), {}))  # a tracked object alive across the call
    try:
        server.freeze_start_up()
        assert gc.get_freeze_count() > 0
        assert all(kept is not o for o in gc.get_objects())  # no generation scans it now
    finally:
        gc.unfreeze()
    assert any(kept is o for o in gc.get_objects())
