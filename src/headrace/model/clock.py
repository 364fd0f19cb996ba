"""Wall-clock time as the store records it: integer milliseconds since the epoch."""

from __future__ import annotations

import time


def now_ms() -> int:
    """The current time in epoch milliseconds."""
    return time.time_ns() // 1_000_000
