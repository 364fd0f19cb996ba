"""Issue 16's goals for ``bench/engine.py``'s rows, and the rows' values across processes.

One process's ratio is one draw: on this 2-core VM the same code gives W1 p=1 0.92 in one
process and 1.08 in the next. ``engine.py --processes N`` re-runs itself N times for the
same rows (``fan_out``); each run records every row's value (``record``) and writes them
as JSON (``dump``); the parent prints each process's value, their median, the goal and
whether the median meets it (``summary``). Without ``--processes`` the summary has one
process's column, so every run prints its goals the same way.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import asdict, dataclass

__all__ = ["Value", "dump", "fan_out", "goal_of", "record", "summary"]


@dataclass(frozen=True)
class Value:
    """One row's value in one process: a ratio to its baseline, or seconds (FIRST)."""

    workload: str
    run: str
    value: float


#: The values this process has recorded, in the order its rows printed them.
RECORDED: list[Value] = []

#: (workload, run) -> (">=" or "<", bound); runs are matched by their end ("p=2").
GOALS: dict[tuple[str, str], tuple[str, float]] = {
    ("W1", "p=1"): (">=", 1.0),
    ("W1", "p=2"): (">=", 1.9),
    ("W2", "p=1"): (">=", 0.8),
    ("W2", "p=2"): (">=", 1.5),
    ("W3", "p=1"): (">=", 0.9),
    ("W3", "p=2"): (">=", 1.5),
    ("W1R", "ray"): (">=", 0.7),
    ("W2S", "exactly_once"): (">=", 0.95),
    ("C1F", "p=1"): (">=", 0.8),
    ("C1F", "p=2"): (">=", 1.5),
    ("C1L", "p=1"): (">=", 0.8),
    ("C2L", "p=1"): (">=", 0.8),
    ("FIRST", "warm_pool (default)"): ("<", 0.3),
}
#: Rows whose goal is "not slower than the p=1 row of the same workload".
AT_LEAST_P1 = {("C1L", "client.run p=2"), ("C2L", "client.run p=2")}


def record(workload: str, run: str, value: float) -> None:
    """Keeps one row's value of this process for ``dump``."""
    RECORDED.append(Value(workload, run, value))


def dump(path: str) -> None:
    """Writes this process's values to ``path`` (JSON), for the process that started it."""
    with open(path, "w") as fh:
        json.dump([asdict(v) for v in RECORDED], fh)


def goal_of(workload: str, run: str) -> tuple[str, float] | None:
    """The goal of a row, matched by the end of its run's name, or None."""
    for (wl, end), goal in GOALS.items():
        if wl == workload and run.endswith(end):
            return goal
    return None


def fan_out(argv: Sequence[str], processes: int) -> list[list[Value]]:
    """Runs this script with ``argv`` in ``processes`` fresh processes, one after another.

    Each child prints its own table (passed through as it comes) and writes its values to
    a temporary file; returns each child's values, in order.
    """
    out: list[list[Value]] = []
    script = os.path.abspath(sys.argv[0])
    for i in range(processes):
        fd, path = tempfile.mkstemp(prefix="engine-bench-", suffix=".json")
        os.close(fd)
        try:
            print(f"\nprocess {i + 1} of {processes}:", flush=True)
            subprocess.run([sys.executable, script, *argv, "--json", path], check=True)
            with open(path) as fh:
                out.append([Value(**v) for v in json.load(fh)])
        finally:
            os.unlink(path)
    return out


def _met(op: str, bound: float, value: float) -> bool:
    return value >= bound if op == ">=" else value < bound


def summary(per_process: Sequence[Sequence[Value]]) -> None:
    """Prints each row's value in every process, their median, its goal and if it is met."""
    rows: dict[tuple[str, str], list[float]] = {}
    for values in per_process:
        for v in values:
            rows.setdefault((v.workload, v.run), []).append(v.value)
    n = len(per_process)
    print(f"\nmedian across {n} process{'es' if n != 1 else ''}:")
    print("| workload | run | per process | median | goal | median meets it |")
    print("|---|---|---|---:|---|---|")
    medians = {key: statistics.median(vals) for key, vals in rows.items()}
    for (wl, run), vals in rows.items():
        med = medians[(wl, run)]
        each = ", ".join(f"{x:.2f}" for x in vals)
        goal, met = "", ""
        found = goal_of(wl, run)
        if found is not None:
            op, bound = found
            goal, met = f"{op} {bound:g}", "yes" if _met(op, bound, med) else "NO"
        elif (wl, run) in AT_LEAST_P1:
            p1 = medians.get((wl, run.replace("p=2", "p=1")))
            if p1 is not None:
                goal, met = f">= p=1's ({p1:.2f})", "yes" if med >= p1 else "NO"
        print(f"| {wl} | {run} | {each} | {med:.2f} | {goal} | {met} |", flush=True)
