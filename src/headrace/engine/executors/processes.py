"""Runs each partition in its own worker process; batches travel between them by queue.

The plan is shipped with cloudpickle, so lambdas defined in ``__main__`` work. Worker
processes come from a fork server that has already imported the engine, so a run pays
a fork, not an interpreter start. Hash partitioning relies on every worker sharing the
fork server's string-hash seed.
"""

from __future__ import annotations

import multiprocessing
import pickle
import queue
import time
import traceback
from typing import Any

import cloudpickle

from headrace.connectors.base import DataStructureProvider, SinkPartition
from headrace.engine import io
from headrace.engine.edges import Message
from headrace.engine.executors.base import Control
from headrace.engine.metrics import PipelineMetrics
from headrace.engine.plan import Plan
from headrace.engine.runtime import EngineOptions, Worker
from headrace.pipeline import Node

__all__ = ["ProcessesExecutor", "WorkerCrashed"]

#: How long the parent waits for a worker's message before checking control and health.
POLL_SEC = 0.02
#: How long a finished worker may take to exit before it is terminated.
JOIN_SEC = 5.0


class WorkerCrashed(RuntimeError):
    """A worker process died without reporting (killed, out of memory)."""


def _context() -> Any:
    methods = multiprocessing.get_all_start_methods()
    if "forkserver" in methods:
        ctx = multiprocessing.get_context("forkserver")
        ctx.set_forkserver_preload(["headrace.engine.runtime", "cloudpickle"])
        return ctx
    return multiprocessing.get_context("spawn")


class _ProxySink:
    """Sends a partition's output to the parent, which owns the real sink."""

    def __init__(self, node_id: int, results: Any) -> None:
        self._node_id, self._results = node_id, results

    def write_batch(self, items: list[Any]) -> None:
        self._results.put(("sink", self._node_id, items))

    def close(self) -> None:
        """The parent closes the real sink."""


def _worker_main(index: int, payload: bytes, inboxes: list[Any], results: Any) -> None:
    try:
        plan, provider, splits, options, partitions = cloudpickle.loads(payload)

        def open_sink(node: Node, partition: int) -> SinkPartition:
            assert node.sink is not None
            if node.sink.writes_locally:
                return io.sink_connector(node.sink).open(provider, partition)
            return _ProxySink(node.id, results)

        def send_remote(msg: Message) -> None:
            inboxes[msg[2]].put(msg)

        worker = Worker(
            plan, provider, partitions, [index], splits, open_sink, send_remote, options
        )
        inbox = inboxes[index]
        while not worker.done:
            progressed = worker.step() if worker.reading else False
            while True:
                try:
                    msg = (
                        inbox.get_nowait()
                        if progressed or worker.reading
                        else inbox.get(timeout=POLL_SEC)
                    )
                except queue.Empty:
                    break
                worker.deliver(msg)
                progressed = True
                if worker.done:
                    break
        results.put(("done", index, worker.metrics))
    except BaseException as exc:
        text = "".join(traceback.format_exception(exc))
        try:
            blob = pickle.dumps(exc)
        except Exception:
            blob = pickle.dumps(RuntimeError(f"{type(exc).__name__}: {exc}"))
        results.put(("error", index, (blob, text)))


class ProcessesExecutor:
    """``parallelism`` worker processes, one partition each."""

    def execute(
        self,
        plan: Plan,
        provider: DataStructureProvider,
        splits: dict[int, list[Any]],
        parallelism: int,
        control: Control | None,
        options: EngineOptions,
    ) -> PipelineMetrics:
        """Starts the workers, applies their sink output here, merges their metrics.

        Raises:
            UserFunctionError: a stage's function raised in a worker.
            WorkerCrashed: a worker died without a word.
        """
        ctx = _context()
        payload = cloudpickle.dumps((plan, provider, splits, options, parallelism))
        inboxes = [ctx.Queue() for _ in range(parallelism)]
        results = ctx.Queue()
        procs = [
            ctx.Process(
                target=_worker_main,
                args=(i, payload, inboxes, results),
                name=f"headrace-worker-{i}",
                daemon=True,
            )
            for i in range(parallelism)
        ]
        for p in procs:
            p.start()
        try:
            return self._collect(plan, provider, procs, results, control)
        finally:
            for p in procs:
                if p.is_alive():
                    p.join(timeout=JOIN_SEC if p.exitcode is None else 0)
                if p.is_alive():
                    p.terminate()
                    p.join()
            for q in (*inboxes, results):
                q.cancel_join_thread()
                q.close()

    @staticmethod
    def _collect(
        plan: Plan,
        provider: DataStructureProvider,
        procs: list[Any],
        results: Any,
        control: Control | None,
    ) -> PipelineMetrics:
        nodes = {n.id: n for v in plan.vertices for n in v.sinks}
        writers: dict[int, SinkPartition] = {}
        metrics = PipelineMetrics()
        waiting = set(range(len(procs)))
        try:
            while waiting:
                if control is not None:
                    control.check()
                try:
                    msg = results.get(timeout=POLL_SEC)
                except queue.Empty:
                    _check_alive(procs, waiting)
                    continue
                kind = msg[0]
                if kind == "sink":
                    writer = writers.get(msg[1])
                    if writer is None:
                        sink = nodes[msg[1]].sink
                        assert sink is not None
                        writer = writers[msg[1]] = io.sink_connector(sink).open(provider, 0)
                    writer.write_batch(msg[2])
                elif kind == "done":
                    metrics.merge(msg[2])
                    waiting.discard(msg[1])
                else:
                    blob, text = msg[2]
                    error = pickle.loads(blob)
                    _terminate(procs)
                    raise error from RuntimeError(text)
        except BaseException:
            _terminate(procs)
            raise
        finally:
            for w in writers.values():
                w.close()
        return metrics


def _check_alive(procs: list[Any], waiting: set[int]) -> None:
    for i in waiting:
        if not procs[i].is_alive():
            time.sleep(POLL_SEC)  # its last message may still be in the pipe
            msg = f"worker {i} died (exit code {procs[i].exitcode})"
            raise WorkerCrashed(msg)


def _terminate(procs: list[Any]) -> None:
    for p in procs:
        if p.is_alive():
            p.terminate()
