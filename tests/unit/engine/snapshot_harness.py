"""Shared by the snapshot tests: controls that stop runs, and a run-crash-restore loop."""

from __future__ import annotations

import pickle
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, Literal

from headrace.connectors.base import SinkWrite
from headrace.connectors.memory import InMemoryProvider, MemorySnapshotStore, MemoryStream
from headrace.engine import EngineOptions, run
from headrace.pipeline import Pipeline


class Stop(Exception):
    """A crash: no snapshot is taken."""


class Suspend(Exception):
    """A suspend: the engine takes a last snapshot before re-raising."""

    take_snapshot = True


class Control:
    """Raises ``exc`` on the ``stop_after + 1``-th check; requests snapshots by call number."""

    def __init__(
        self,
        stop_after: int | None = None,
        exc: Callable[[], BaseException] = Stop,
        requests: dict[int, list[str]] | None = None,
        on_check: Callable[[int], None] | None = None,
    ) -> None:
        self.calls = 0
        self.stop_after = stop_after
        self.exc = exc
        self.requests = requests or {}
        self.on_check = on_check
        self.metrics: list[dict[str, Any]] = []

    def check(self) -> None:
        self.calls += 1
        if self.on_check is not None:
            self.on_check(self.calls)
        if self.stop_after is not None and self.calls > self.stop_after:
            raise self.exc()

    def snapshot_requests(self) -> list[str]:
        return self.requests.get(self.calls, [])

    def report_metrics(self, metrics: dict[str, Any]) -> None:
        self.metrics.append(metrics)


def stream_provider(partitions: Sequence[Sequence[Any]], closed: bool = True) -> InMemoryProvider:
    stream = MemoryStream(len(partitions))
    for i, items in enumerate(partitions):
        stream.append_to(i, items)
    if closed:
        stream.close()
    return InMemoryProvider(streams={"events": stream})


class CrashingStore(MemorySnapshotStore):
    """Crashes (raises ``Stop``) in place of the first commit that has read ``crash_at``.

    Nothing of that commit is kept, as when the process dies while it commits, so the
    next run restores the commit before it. A run commits at its end too, so a run whose
    sources hold ``crash_at`` items or more crashes, however its checks were paced.
    """

    crash_at: int | None = None

    def commit(self, state: bytes, writes: Sequence[SinkWrite], names: Sequence[str]) -> None:
        if self.crash_at is not None and items_read(state) >= self.crash_at:
            raise Stop
        super().commit(state, writes, names)


def items_read(state: bytes) -> int:
    """Items a committed snapshot's sources had read (this run's and those it restored)."""
    return int(pickle.loads(state)["metrics"].received_count)


def crash_and_restore(
    build: Callable[[], Pipeline],
    provider: InMemoryProvider,
    stops: Sequence[int],
    options: EngineOptions,
    parallelism: int = 1,
    executor: str = "inprocess",
    requests: dict[int, list[str]] | None = None,
    by: Literal["checks", "read"] = "checks",
) -> tuple[MemorySnapshotStore, int]:
    """Runs, crashing after each of ``stops`` checks and restoring from the last commit.

    With ``by="read"`` a run crashes instead in place of its first commit that has read
    ``stops[i]`` items (``CrashingStore``): the crash points for sources paced by the
    clock, whose runs end after as many checks as the machine's load allows.

    Returns the store and how many runs crashed before one reached the end.
    """
    store = CrashingStore(provider)
    crashes = 0
    for n in [*stops, None]:
        store.crash_at = n if by == "read" else None
        try:
            run(
                build(),
                provider,
                parallelism,
                Control(n if by == "checks" else None, requests=requests),
                executor=executor,
                options=options,
                snapshots=store,
                restore=store.latest,
            )
            return store, crashes
        except Stop:
            crashes += 1
    raise AssertionError("unreachable")


def reference(build: Callable[[], Pipeline], provider: InMemoryProvider) -> InMemoryProvider:
    """The uninterrupted run's output, without snapshots."""
    run(build(), provider, 1, executor="inprocess", options=EngineOptions(batch_size=7))
    return provider


#: How long a gated worker waits for its gate file before it fails the run.
GATE_SEC = 60.0


def wait_for_file(path: Path, what: str) -> None:
    """Returns once ``path`` exists; raises after ``GATE_SEC`` (in a worker: fails the run)."""
    deadline = time.monotonic() + GATE_SEC
    while not path.exists():
        if time.monotonic() > deadline:
            raise TimeoutError(f"{what} did not come within {GATE_SEC:.0f} s ({path.name})")
        time.sleep(0.001)
