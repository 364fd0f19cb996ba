"""Time-ordered ids: UUIDv7 (RFC 9562 §5.7), so ids sort in the order they were made.

Written by hand because the standard library gains ``uuid.uuid7`` only in Python 3.14.
Within one millisecond a 12-bit counter (``rand_a``) keeps ids made by this process in
order; the remaining 62 bits are random.
"""

from __future__ import annotations

import os
import threading
import time

_lock = threading.Lock()
_last_ms = 0
_counter = 0


def new_id() -> str:
    """A new UUIDv7 as a string."""
    return new_ids(1)[0]


def new_ids(n: int) -> list[str]:
    """``n`` new UUIDv7s as strings, in the order they were made.

    One lock and one read of the system's random source for all of them: a bulk schedule
    of 20,000 jobs spent 90 ms in ``new_id`` one at a time, half of it in ``uuid.UUID``.
    """
    global _last_ms, _counter
    stamps = []
    with _lock:
        ms = max(time.time_ns() // 1_000_000, _last_ms)
        counter = _counter + 1 if ms == _last_ms else 0
        for _ in range(n):
            if counter > 0xFFF:  # 4,096 ids in one millisecond: borrow the next one
                ms += 1
                counter = 0
            stamps.append((ms & 0xFFFF_FFFF_FFFF) << 80 | 0x7 << 76 | counter << 64 | 0b10 << 62)
            counter += 1
        _last_ms, _counter = ms, counter - 1
    random = os.urandom(8 * n)
    out = []
    for i, stamp in enumerate(stamps):
        tail = int.from_bytes(random[8 * i : 8 * i + 8], "big") & 0x3FFF_FFFF_FFFF_FFFF
        h = f"{stamp | tail:032x}"
        out.append(f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}")
    return out
