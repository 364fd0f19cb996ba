"""Shared by the snapshot tests: controls that stop runs, and a run-crash-restore loop."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Literal

from headrace.connectors.memory import InMemoryProvider, MemorySnapshotStore, MemoryStream
from headrace.engine import EngineOptions, run
from headrace.pipeline import Pipeline


class Stop(Exception):
    """A crash: no snapshot is taken."""


class Suspend(Exception):
    """A suspend: the engine takes a last snapshot before re-raising."""

    take_snapshot = True


class Control:
    """Raises ``exc`` on the ``stop_after + 1``-th check; requests snapshots by call number.

    With ``stop_at_read`` it raises instead on the first check after the engine reported
    (at a snapshot, or with its periodic metrics) that the sources had read that many
    items, counting what the restored snapshot had read.
    """

    def __init__(
        self,
        stop_after: int | None = None,
        exc: Callable[[], BaseException] = Stop,
        requests: dict[int, list[str]] | None = None,
        on_check: Callable[[int], None] | None = None,
        stop_at_read: int | None = None,
    ) -> None:
        self.calls = 0
        self.stop_after = stop_after
        self.exc = exc
        self.requests = requests or {}
        self.on_check = on_check
        self.stop_at_read = stop_at_read
        self.metrics: list[dict[str, Any]] = []

    def check(self) -> None:
        self.calls += 1
        if self.on_check is not None:
            self.on_check(self.calls)
        if self.stop_after is not None and self.calls > self.stop_after:
            raise self.exc()
        if self.stop_at_read is not None and self.read() >= self.stop_at_read:
            raise self.exc()

    def read(self) -> int:
        """Items the sources had read at the latest report (0 before the first)."""
        return int(self.metrics[-1]["received_count"]) if self.metrics else 0

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

    With ``by="read"`` the stops count items read instead (``Control.stop_at_read``):
    the points to use with sources paced by the clock, whose runs end after as many
    checks as the machine's load allows.

    Returns the store and how many runs crashed before one reached the end.
    """
    store = MemorySnapshotStore(provider)
    crashes = 0
    for n in [*stops, None]:
        control = (
            Control(n, requests=requests)
            if by == "checks"
            else Control(stop_at_read=n, requests=requests)
        )
        try:
            run(
                build(),
                provider,
                parallelism,
                control,
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
