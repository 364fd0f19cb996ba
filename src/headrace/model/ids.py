"""Time-ordered ids: UUIDv7 (RFC 9562 §5.7), so ids sort in the order they were made.

Written by hand because the standard library gains ``uuid.uuid7`` only in Python 3.14.
Within one millisecond a 12-bit counter (``rand_a``) keeps ids made by this process in
order; the remaining 62 bits are random.
"""

from __future__ import annotations

import os
import threading
import time
import uuid

_lock = threading.Lock()
_last_ms = 0
_counter = 0


def new_id() -> str:
    """A new UUIDv7 as a string."""
    global _last_ms, _counter
    with _lock:
        ms = time.time_ns() // 1_000_000
        if ms <= _last_ms:
            ms = _last_ms
            _counter += 1
            if _counter > 0xFFF:  # 4,096 ids in one millisecond: borrow the next one
                ms += 1
                _counter = 0
        else:
            _counter = 0
        _last_ms = ms
        counter = _counter
    random_b = int.from_bytes(os.urandom(8), "big") & 0x3FFF_FFFF_FFFF_FFFF
    value = (ms & 0xFFFF_FFFF_FFFF) << 80 | 0x7 << 76 | counter << 64 | 0b10 << 62 | random_b
    return str(uuid.UUID(int=value))
