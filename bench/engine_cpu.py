"""``bench/engine.py --cpu``: the CPU seconds of each timed run, the driver's and the pool's.

Unlike wall time, CPU hardly depends on other work on the machine, so p=2's extra work
shows as CPU above p=1's even when p=2 had no spare core.
"""

from __future__ import annotations

import os
import statistics
import time
from collections.abc import Callable

__all__ = ["CPU", "MEASURE_CPU", "cpu_rows", "timed"]

#: ``--cpu`` was given: client rows also record CPU seconds.
MEASURE_CPU = False
#: ``--cpu``: CPU seconds (this process, pool workers) of each timed run, per row label.
CPU: dict[tuple[str, str], list[tuple[float, float]]] = {}
_TICK = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def _workers_cpu(pids: list[int]) -> float:
    """User + system CPU seconds of the pool's worker processes so far (Linux ``/proc``)."""
    total = 0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/stat") as fh:
                fields = fh.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / _TICK


def _self_cpu() -> float:
    import resource

    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def timed(fn: Callable[[], str], cpu: tuple[str, str] | None = None) -> tuple[float, str]:
    """Wall seconds of ``fn()`` and its result; with ``cpu`` (a row) also its CPU seconds.

    The CPU is this process's plus the idle pool's workers' (a run takes the pool kept
    for the next one, so the pool seen before the call is the one it runs on).
    """
    pids: list[int] = []
    if cpu is not None:
        from headrace.engine.executors import pool as pools

        kept = pools.idle()
        pids = [p.pid for p in kept.procs if p.pid is not None] if kept is not None else []
        s0, w0 = _self_cpu(), _workers_cpu(pids)
    t0 = time.perf_counter()
    chk = fn()
    elapsed = time.perf_counter() - t0
    if cpu is not None:
        CPU.setdefault(cpu, []).append((_self_cpu() - s0, _workers_cpu(pids) - w0))
    return elapsed, chk


def cpu_rows(wl: str, base: str) -> None:
    """``--cpu``: median CPU seconds of each row of ``wl``, and its ratio to ``base``'s."""
    rows = {key: v for (w, key), v in CPU.items() if w == wl}
    if base not in rows:
        return
    ref = statistics.median(p + w for p, w in rows[base])
    for key, v in rows.items():
        par, wrk = statistics.median(p for p, _ in v), statistics.median(w for _, w in v)
        total = statistics.median(p + w for p, w in v)
        print(
            f"| {wl} | CPU | {key} | parent {par:.2f} s + workers {wrk:.2f} s "
            f"= {total:.2f} s | {total / ref:.2f}x {base}'s CPU | median of {len(v)} |",
            flush=True,
        )
