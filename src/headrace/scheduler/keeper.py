"""A worker's keeper thread: renews its leases and takes its turn at maintenance.

On a fixed beat, however long jobs run: a heartbeat every third of the lease, and the
elected maintenance (``MaintenanceRepository``) every ``MAINTENANCE_INTERVAL_SEC``. It
has its own connections and transactions, apart from the pump's and the jobs'.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from headrace import defaults, errors
from headrace.store.leases import LeaseRepository
from headrace.store.maintenance import MaintenanceRepository

log = logging.getLogger("headrace.worker")


def keep(
    leases: LeaseRepository,
    maintenance: MaintenanceRepository,
    lease_sec: float,
    running: Callable[[], list[str]],
    wake: Callable[[], None],
    stopped: threading.Event,
) -> None:
    """Heartbeat ``running()``'s jobs and run maintenance until ``stopped`` is set.

    ``wake`` is called when maintenance changed jobs (some may be waiting now).
    """
    beat = lease_sec / 3
    next_beat = next_maintain = 0.0
    while not stopped.wait(min(beat, defaults.MAINTENANCE_INTERVAL_SEC) / 2):
        now = time.monotonic()
        try:
            if now >= next_beat:
                next_beat = now + beat
                leases.heartbeat(lease_sec, running())
            if now >= next_maintain:
                next_maintain = now + defaults.MAINTENANCE_INTERVAL_SEC
                if maintenance.run(lease_sec):
                    wake()
        except errors.StoreError as exc:
            log.warning("heartbeat/maintenance failed: %s", exc)
