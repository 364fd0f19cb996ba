"""Source batches sized by time, so snapshots and stops keep their pace with slow stages.

Barriers (snapshots) and control checks go in between source batches. A batch of a fixed
number of items takes as long as its slowest stage makes it: 4,096 items at 5 ms each
is 20 s without a snapshot. A ``Pacer`` sizes each feed's next batch from the time the
last one took per item, so a batch takes about ``target`` seconds, never more items than
the configured batch size and never fewer than one. Fast stages keep full batches.
"""

from __future__ import annotations

#: The longest a source batch should take when nothing asks for less (seconds).
BATCH_TARGET_SEC = 0.1
#: A snapshot interval is cut into at least this many batches.
BATCHES_PER_INTERVAL = 5
#: A feed's first batch, before any has been timed: small, since one slow item could
#: make a full first batch outlast several intervals; sizes then grow fourfold a batch.
FIRST_BATCH = 16


def target_sec(snapshot_interval_ms: int | None) -> float:
    """How long a batch should take: short beside the snapshot interval, if there is one."""
    if not snapshot_interval_ms:
        return BATCH_TARGET_SEC
    return min(BATCH_TARGET_SEC, snapshot_interval_ms / 1000 / BATCHES_PER_INTERVAL)


class Pacer:
    """The next batch size of one feed, from how long its batches take."""

    def __init__(self, most: int, target: float) -> None:
        self.most = most
        self.target = target
        self.size = min(most, FIRST_BATCH)

    def took(self, items: int, seconds: float) -> None:
        """Record that a batch of ``items`` took ``seconds``; sizes the next one."""
        if items <= 0:
            return
        if seconds <= 0:
            self.size = self.most
            return
        fits = int(items * self.target / seconds)
        # Grow at most fourfold a batch (a cheap batch may be a fluke), shrink at once.
        self.size = max(1, min(self.most, fits, max(items, self.size) * 4))
