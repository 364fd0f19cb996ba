"""The garbage collector of a process Headrace owns and that serves for hours.

CPython's cyclic collector runs a young collection every 700 net allocations of tracked
objects, and a full one, which walks every tracked object with every thread stopped,
once enough objects have survived two young collections. A long-lived Headrace process
pays for both without gaining from them: what start-up built (modules, the app, compiled
statements) lives as long as the process, and what serving allocates is mostly freed by
reference counting as soon as a request or a job is done. Measured with ``gc.callbacks``
in a two-worker SQLite drain of 100,000 no-op jobs at capacity 50 (2026-12-07): each
worker ran ~700 young, 64 middle and 5 full collections, 180-290 ms of a 2.2 s drain,
and the full ones collected nothing. With start-up frozen and a young threshold of
10,000: 10 young, 1 middle, no full one, 30-45 ms.

Only the processes Headrace starts call these: ``headrace worker``, and ``headrace
server`` when it runs workers, freeze and raise the threshold; an API-only server and its
API processes only freeze. A program that embeds a client keeps its collector as it set it.
"""

from __future__ import annotations

import gc

from headrace import defaults


def freeze_start_up() -> None:
    """Move what start-up allocated out of the collector's full collections.

    Start-up leaves some 150,000 tracked objects (modules, the app, its schemas), and a
    full collection walks them all with every thread of the process stopped: under load,
    one ran 113-129 ms during a 16 s API benchmark, the slowest request's whole wait.
    ``gc.freeze`` puts them in a generation the collector no longer scans (they live as
    long as the process anyway); what is allocated later is collected as before. Called
    where a process is about to serve, not while it is built: a host that embeds the app
    keeps its own collector as it had it.
    """
    gc.collect()
    gc.freeze()


def serve_jobs() -> None:
    """Set the collector up for a process that runs jobs, from now until it exits.

    Start-up is frozen, and young collections come every
    ``defaults.SERVING_GC_YOUNG_THRESHOLD`` net allocations; the older generations'
    thresholds stay Python's.
    """
    freeze_start_up()
    _young, middle, old = gc.get_threshold()
    gc.set_threshold(defaults.SERVING_GC_YOUNG_THRESHOLD, middle, old)
