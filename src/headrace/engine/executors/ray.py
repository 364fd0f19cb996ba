"""Runs each partition as a Ray actor; batches travel between them as Ray object refs.

The optional extra ``headrace[ray]`` brings Ray; without it, choosing this executor
raises :class:`~headrace.errors.InvalidInput` naming the extra. The driver joins the
cluster at ``address`` (else ``RAY_ADDRESS``, else a local one it starts).

The run goes in rounds. In a round every partition's actor delivers the message lists
it was handed, reads its sources for up to ``ROUND_SEC`` (unless paused), and returns
one list of outgoing messages per destination partition plus a report (sizes, sink
output, metrics, whether it is done). The driver never loads the message lists: it
hands each destination the object refs meant for it, so a batch goes from actor to
actor through Ray's object store, one ref per pair of partitions and round.

Snapshots (a drained barrier, as in the process pool): the driver pauses reading and
runs rounds until a round sends nothing; then nothing is in flight and each actor's
state is the partition's state as it stands. A Ray actor that dies (killed, out of
memory) makes the driver drop every actor and the exactly-once writes held since the
last snapshot, and start the partitions again from that snapshot (or from the run's
start); with guarantee ``none`` the run fails with ``WorkerCrashed`` instead.
"""

from __future__ import annotations

import os
import threading
import time
from typing import Any

import cloudpickle

from headrace import errors
from headrace.connectors.base import DataStructureProvider, SinkPartition
from headrace.engine import io
from headrace.engine.edges import Message
from headrace.engine.executors.base import Control
from headrace.engine.executors.processes import WorkerCrashed
from headrace.engine.executors.sinks import DriverSinks
from headrace.engine.metrics import PipelineMetrics
from headrace.engine.plan import Plan
from headrace.engine.runtime import EngineOptions, Worker
from headrace.engine.snapshot import Coordinator, dump_parts
from headrace.pipeline import Node

__all__ = ["RayExecutor", "import_ray"]

#: How long an actor reads its sources in one round (a round costs a few ms of Ray calls).
ROUND_SEC = 0.1
#: Outgoing items after which an actor ends its round early (a batch is big enough).
ROUND_ITEMS = 50_000
#: Hash partitioning needs every actor to hash strings alike: they start with this seed.
HASH_SEED = "0"
#: What actors hash to show they share the seed.
HASH_PROBE = "headrace"
#: The driver's pause after a round in which no partition had anything to do.
IDLE_SLEEP_SEC = 0.005
#: How often a run may start again from its snapshot after losing an actor.
MAX_RESTARTS = 3


def import_ray() -> Any:
    """The ``ray`` module, or a clear error naming the extra that installs it.

    Raises:
        InvalidInput: Ray is not installed.
    """
    try:
        import ray
    except ImportError as exc:
        msg = "the ray executor needs Ray: pip install 'headrace[ray]'"
        raise errors.InvalidInput("executor", msg) from exc
    return ray


class _CollectingSink:
    """Keeps a partition's output for the round's report; the driver owns the sink."""

    def __init__(self, node_id: int, out: list[tuple[int, list[Any]]]) -> None:
        self._node_id, self._out = node_id, out

    def write_batch(self, items: list[Any]) -> None:
        self._out.append((self._node_id, list(items)))

    def close(self) -> None:
        """The driver closes the real sink."""


class PartitionActor:
    """One partition of a run (the class Ray makes an actor of); serves run after run."""

    def load(self, payload: bytes, index: int) -> int:
        """Takes partition ``index`` of a new run; returns this process's string hash.

        Hash partitioning needs every partition to hash strings alike: the driver
        compares what the actors return.
        """
        plan, provider, splits, options, partitions, parts, resumed = cloudpickle.loads(payload)
        self.release()  # a previous run's, if its end did not (it stopped, or failed)
        self.partitions = partitions
        self.outbox: list[list[Message]] = [[] for _ in range(partitions)]
        self.sink_out: list[tuple[int, list[Any]]] = []

        def open_sink(node: Node, partition: int) -> SinkPartition:
            assert node.sink is not None
            if node.sink.writes_locally:
                return io.sink_connector(node.sink).open(provider, partition, resume=resumed)
            return _CollectingSink(node.id, self.sink_out)

        def send_remote(msg: Message) -> None:
            self.outbox[msg[2]].append(msg)

        self.worker = Worker(
            plan, provider, partitions, [index], splits, open_sink, send_remote, options
        )
        if parts is not None:
            self.worker.import_state(parts)
        return hash(HASH_PROBE)

    def round(self, paused: bool, *inbound: list[Message]) -> tuple[Any, ...]:
        """Delivers ``inbound``, reads for a while unless ``paused``; see the module doc."""
        worker = self.worker
        for batch in inbound:
            for msg in batch:
                worker.deliver(msg)
        busy = bool(inbound)
        deadline = time.monotonic() + ROUND_SEC
        while not paused and not worker.done and worker.reading:
            if not worker.step():
                break
            busy = True
            if time.monotonic() >= deadline:
                break
            if sum(len(b) for b in self.outbox) >= ROUND_ITEMS:
                break
        out, self.outbox = self.outbox, [[] for _ in range(self.partitions)]
        sinks, self.sink_out[:] = list(self.sink_out), []
        items = sum(len(m[4]) if isinstance(m[4], list) else 1 for b in out for m in b)
        report = ([len(b) for b in out], items, sinks, worker.metrics, worker.done, busy)
        return (*out, report)

    def state(self) -> tuple[bytes, PipelineMetrics]:
        """The partition's state between rounds (nothing in flight) and its metrics."""
        return dump_parts(self.worker.export_state()), self.worker.metrics

    def close(self) -> None:
        """Closes the readers of a run that stops before its end."""
        self.worker.close()

    def release(self) -> None:
        """Lets go of the run, so its partitions, output and state go now.

        Not when this idle actor's collector next runs, or its next run replaces them
        (``Worker.release``).
        """
        worker = self.__dict__.pop("worker", None)
        if worker is not None:
            worker.release()
        self.outbox, self.sink_out = [], []


class RayExecutor:
    """``parallelism`` Ray actors, one partition each."""

    def __init__(self, address: str | None = None) -> None:
        self.address = address
        #: Of the last run: (items, object refs) that went from actor to actor.
        self.exchanged = (0, 0)

    def execute(
        self,
        plan: Plan,
        provider: DataStructureProvider,
        splits: dict[int, list[Any]],
        parallelism: int,
        control: Control | None,
        options: EngineOptions,
        coordinator: Coordinator,
    ) -> PipelineMetrics:
        """Runs the partitions as Ray actors, applies their sink output here.

        Raises:
            InvalidInput: Ray is not installed.
            UserFunctionError: a stage's function raised in an actor.
            WorkerCrashed: an actor died and the run cannot start again from a snapshot.
        """
        ray = import_ray()
        if not ray.is_initialized():
            address = self.address or os.environ.get("RAY_ADDRESS") or None
            ray.init(address=address, include_dashboard=False, log_to_driver=False)
        run = _Driver(ray, plan, provider, splits, parallelism, options, coordinator)
        try:
            return run.run()
        finally:
            self.exchanged = (run.items, run.refs)


class _Driver:
    """The driver's side of one run: rounds, sinks, snapshots and restarts."""

    def __init__(
        self,
        ray: Any,
        plan: Plan,
        provider: DataStructureProvider,
        splits: dict[int, list[Any]],
        parallelism: int,
        options: EngineOptions,
        coordinator: Coordinator,
    ) -> None:
        self.ray, self.plan, self.provider, self.splits = ray, plan, provider, splits
        self.n, self.options, self.coordinator = parallelism, options, coordinator
        self.sinks = DriverSinks(plan, provider, coordinator)
        restored = coordinator.restored
        self.base: tuple[Any, bool] = (restored.parts if restored else None, restored is not None)
        self.offset = PipelineMetrics()  # counted before the snapshot a restart began at
        self.at_snapshot = PipelineMetrics()
        self.actors: list[Any] = []
        self.items = self.refs = 0  # sent between actors, for the benchmark
        self.live: list[PipelineMetrics] = []

    def start(self) -> None:
        """Starts an actor per partition from ``self.base`` (a snapshot or the start)."""
        parts, resumed = self.base
        payloads = [
            cloudpickle.dumps(
                (self.plan, self.provider, self.splits, self.options, self.n, mine, resumed)
            )
            for mine in (None if parts is None else _owned(parts, i) for i in range(self.n))
        ]
        for fresh in (False, True):  # an idle actor may have died since the last run
            self.actors = _acquire(self.ray, self.n, fresh)
            loads = [a.load.remote(payloads[i], i) for i, a in enumerate(self.actors)]
            try:
                hashes = self.ray.get(loads)
                break
            except self.ray.exceptions.RayActorError:
                self.stop()
                if fresh:
                    raise
        if len(set(hashes)) > 1:
            msg = "Ray actors hash strings differently: PYTHONHASHSEED did not reach them"
            raise RuntimeError(msg)
        self.live = [PipelineMetrics() for _ in range(self.n)]
        self.pending: list[list[Any]] = [[] for _ in range(self.n)]
        self.done = [False] * self.n

    def stop(self) -> None:
        """Kills this run's actors (a failed or restarted run does not reuse them)."""
        for actor in self.actors:
            self.ray.kill(actor)
        self.actors = []

    def metrics(self) -> PipelineMetrics:
        out = PipelineMetrics()
        out.merge(self.offset)
        for m in self.live:
            out.merge(m)
        return out

    def run(self) -> PipelineMetrics:
        restarts, finished = 0, False
        self.start()
        try:
            while True:
                try:
                    metrics = self._run()
                    finished = True
                    return metrics
                except self.ray.exceptions.RayTaskError as exc:
                    # A stage raised in an actor: raise what it raised, not Ray's wrapper.
                    if isinstance(exc.cause, BaseException):
                        raise exc.cause from None
                    raise
                except self.ray.exceptions.RayActorError as exc:
                    self.stop()
                    if self.coordinator.options.guarantee == "none" or restarts >= MAX_RESTARTS:
                        msg = f"a Ray actor died: {exc}"
                        raise WorkerCrashed(msg) from exc
                    restarts += 1
                    self.coordinator.buffer.drain()  # held since the snapshot: made again
                    self.offset = self.at_snapshot
                    self.start()
        finally:
            self.sinks.close()
            if finished:
                _release(self.ray, self.actors)
                self.actors = []
            self.stop()

    def _run(self) -> PipelineMetrics:
        coordinator = self.coordinator
        while not (all(self.done) and not any(self.pending)):
            try:
                names = coordinator.poll(self.metrics)
            except BaseException as exc:
                wanted = coordinator.names_on_stop(exc)
                if wanted is not None:
                    self.snapshot(wanted)
                raise
            if names is not None:
                self.snapshot(names)
            if not self.round(paused=False):
                time.sleep(IDLE_SLEEP_SEC)  # sources wait for data: do not spin
        states = self._states()
        return coordinator.finish(states, self.metrics())

    def round(self, paused: bool) -> bool:
        """One round of every partition that has work; True if any partition did some."""
        calls: dict[int, Any] = {}
        for i, actor in enumerate(self.actors):
            if self.pending[i] or not (self.done[i] or paused):
                calls[i] = actor.round.options(num_returns=self.n + 1).remote(
                    paused, *self.pending[i]
                )
        self.pending = [[] for _ in range(self.n)]
        reports = self.ray.get([refs[-1] for refs in calls.values()])
        busy = False
        for (i, refs), (sizes, items, sinks, metrics, done, worked) in zip(
            calls.items(), reports, strict=True
        ):
            self.live[i], self.done[i], busy = metrics, done, busy or worked
            self.items += items
            for dest, size in enumerate(sizes):
                if size:
                    self.pending[dest].append(refs[dest])
                    self.refs += 1
            for node_id, batch in sinks:
                self.sinks.write(node_id, batch)
        return busy

    def _states(self) -> list[bytes]:
        got = self.ray.get([actor.state.remote() for actor in self.actors])
        self.live = [m for _state, m in got]
        return [state for state, _m in got]

    def snapshot(self, names: list[str]) -> None:
        """Drains every message in flight, then commits the partitions' state."""
        while any(self.pending):
            self.round(paused=True)
        states = self._states()
        self.coordinator.commit(states, self.metrics(), names)
        merged: dict[tuple[Any, ...], Any] = {}
        for state in states:
            merged.update(cloudpickle.loads(state))
        self.base, self.at_snapshot = (merged, True), self.metrics()


_pool_lock = threading.Lock()
#: Idle actors kept for the next run, with the Ray job (driver session) they belong to.
_idle: tuple[str, list[Any]] | None = None


def _acquire(ray: Any, n: int, fresh: bool = False) -> list[Any]:
    """``n`` actors: the idle ones if they fit this Ray session (and not ``fresh``), else new.

    Each actor is its own worker process (``PYTHONHASHSEED`` must be set at its start),
    so a warm set saves a run the seconds of starting them.
    """
    global _idle
    session = ray.get_runtime_context().get_job_id()
    with _pool_lock:
        idle, _idle = _idle, None
    if idle is not None:
        if idle[0] == session and len(idle[1]) == n and not fresh:
            return idle[1]
        if idle[0] == session:
            for actor in idle[1]:
                ray.kill(actor)
    actor_class = ray.remote(num_cpus=0, runtime_env={"env_vars": {"PYTHONHASHSEED": HASH_SEED}})
    return [actor_class(PartitionActor).remote() for _ in range(n)]


def _release(ray: Any, actors: list[Any]) -> None:
    """Keeps ``actors`` for the next run (one idle set at most).

    The kept ones hold nothing of this run (``PartitionActor.release``).
    """
    global _idle
    session = ray.get_runtime_context().get_job_id()
    with _pool_lock:
        kept = _idle is None
        if kept:
            _idle = (session, actors)
    for actor in actors:
        if kept:
            actor.release.remote()  # not waited for: an actor runs its calls in order
        else:
            ray.kill(actor)


def _owned(parts: dict[tuple[Any, ...], Any], index: int) -> dict[tuple[Any, ...], Any]:
    """What partition ``index`` restores: every split's state and its own feeds and stages."""
    return {k: v for k, v in parts.items() if k[0] == "split" or k[2] == index}
