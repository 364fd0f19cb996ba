"""The Ray executor: same output as the process pool, exactly once across a killed actor."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from child_path import child_pythonpath
from headrace.connectors.memory import InMemoryProvider, MemorySnapshotStore
from headrace.engine import EngineOptions, UserFunctionError, run
from headrace.pipeline import Pipeline, counting, summing

pytestmark = pytest.mark.slow  # one local Ray cluster per session: seconds to start

LINES = [f"w{i % 7} w{i % 3} x{i % 11}" for i in range(300)]


def word_count() -> Pipeline:
    p = Pipeline.create()
    words = p.read_from(Pipeline.from_list("in", LINES)).flat_map(lambda ln: ln.split())
    words.group_by(lambda w: w).aggregate(counting()).write_to(Pipeline.to_map("counts"))
    words.map(len).aggregate(summing()).write_to(Pipeline.to_list("total"))
    words.filter(lambda w: w.startswith("x")).write_to(Pipeline.to_list("xs"))
    return p


def outputs(executor: str, parallelism: int) -> tuple[Any, ...]:
    provider = InMemoryProvider(lists={"in": LINES})
    options = EngineOptions(batch_size=16, split_items=40)
    metrics = run(word_count(), provider, parallelism, executor=executor, options=options)
    return (
        provider.maps["counts"],
        provider.lists["total"],
        sorted(provider.lists["xs"]),
        metrics.received_count,
    )


@pytest.mark.usefixtures("ray_cluster")
def test_same_output_on_ray_at_parallelism_1_and_2_as_the_process_pool() -> None:
    expected = outputs("processes", 2)
    assert expected[0] == dict(Counter(w for ln in LINES for w in ln.split()))
    assert outputs("ray", 1) == expected
    assert outputs("ray", 2) == expected


@pytest.mark.usefixtures("ray_cluster")
def test_exactly_once_across_a_killed_ray_actor(tmp_path: Path) -> None:
    n = 1600
    pids = tmp_path / "pids"
    pids.mkdir()

    def slow(x: int) -> int:
        (pids / str(os.getpid())).touch()
        time.sleep(0.002)
        return x

    p = Pipeline.create()
    items = p.read_from(Pipeline.from_list("in", list(range(n)))).map(slow)
    items.write_to(Pipeline.to_list("out"))
    items.group_by(lambda x: x % 5).aggregate(counting()).write_to(Pipeline.to_map("mod5"))
    provider = InMemoryProvider(lists={"in": list(range(n))})
    store = MemorySnapshotStore(provider)
    killed: list[int] = []
    seen_before: set[str] = set()

    def killer() -> None:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if store.commits and len(provider.lists.get("out", [])) < n // 2:
                time.sleep(0.25)  # mid-way to the next snapshot: output is held
                found = sorted(f.name for f in pids.iterdir())
                if found:
                    seen_before.update(found)
                    os.kill(int(found[0]), signal.SIGKILL)
                    killed.append(int(found[0]))
                    return
            time.sleep(0.01)

    thread = threading.Thread(target=killer, daemon=True)
    thread.start()
    options = EngineOptions(
        batch_size=10, split_items=100, guarantee="exactly_once", snapshot_interval_ms=500
    )
    run(p, provider, 2, executor="ray", options=options, snapshots=store)
    thread.join(timeout=5)
    assert killed, "the actor was not killed while the run went on"
    assert {f.name for f in pids.iterdir()} - seen_before, "no actor started again"
    assert sorted(provider.lists["out"]) == list(range(n))  # nothing lost, nothing twice
    assert provider.maps["mod5"] == {k: n // 5 for k in range(5)}


BLOCK_RAY = """
import sys

class _NoRay:
    def find_spec(self, name, path=None, target=None):
        if name == "ray" or name.startswith("ray."):
            raise ImportError("ray is blocked for this test")
        return None

sys.meta_path.insert(0, _NoRay())
"""


def test_without_ray_the_error_names_the_extra(tmp_path: Path) -> None:
    (tmp_path / "sitecustomize.py").write_text(BLOCK_RAY)
    script = textwrap.dedent(
        """
        from headrace.connectors.memory import InMemoryProvider
        from headrace.engine import run
        from headrace.errors import InvalidInput
        from headrace.pipeline import Pipeline

        p = Pipeline.create()
        p.read_from(Pipeline.items([1, 2])).write_to(Pipeline.to_list("out"))
        try:
            run(p, InMemoryProvider(), 2, executor="ray")
        except InvalidInput as exc:
            print("ERROR", exc)
        """
    )
    env = {**os.environ, "PYTHONPATH": child_pythonpath(tmp_path)}
    done = subprocess.run(
        [sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert "ERROR" in done.stdout
    assert "pip install 'headrace[ray]'" in done.stdout


@pytest.mark.usefixtures("ray_cluster")
def test_a_failing_stage_on_ray_raises_its_own_error() -> None:
    p = Pipeline.create()
    p.read_from(Pipeline.items([1, 2, 0, 4])).map(lambda x: 10 // x).write_to(
        Pipeline.to_list("out")
    )
    with pytest.raises(UserFunctionError) as info:
        run(p, InMemoryProvider(), 2, executor="ray")
    assert str(info.value).startswith("stage 'map")
    assert "ZeroDivisionError" in info.value.traceback_text


@pytest.mark.usefixtures("ray_cluster")
def test_a_run_after_an_idle_actor_was_killed_starts_new_ones(tmp_path: Path) -> None:
    def build() -> Pipeline:
        def mark(x: int) -> int:
            (tmp_path / str(os.getpid())).touch()
            return x

        p = Pipeline.create()
        p.read_from(Pipeline.items(list(range(100)))).map(mark).write_to(Pipeline.to_list("out"))
        return p

    first = InMemoryProvider()
    run(build(), first, 2, executor="ray")
    pid = int(sorted(f.name for f in tmp_path.iterdir())[0])
    os.kill(pid, signal.SIGKILL)  # an actor kept warm for the next run
    again = InMemoryProvider()
    run(build(), again, 2, executor="ray")
    assert sorted(first.lists["out"]) == sorted(again.lists["out"]) == list(range(100))


@pytest.mark.usefixtures("ray_cluster")
def test_actors_kept_for_the_next_run_hold_nothing_of_the_last_one() -> None:
    # An idle actor kept its run's worker (partitions, output, state) until its next run
    # replaced it, or its collector ran; now the run's end lets go of it.
    import ray

    from headrace.engine.executors import ray as ray_executor

    assert outputs("ray", 2)[1] == [sum(len(w) for ln in LINES for w in ln.split())]
    idle = ray_executor._idle
    assert idle is not None and len(idle[1]) == 2

    def holds_a_run(actor: Any) -> bool:
        return "worker" in actor.__dict__ or bool(actor.outbox) or bool(actor.sink_out)

    assert ray.get([a.__ray_call__.remote(holds_a_run) for a in idle[1]]) == [False, False]
    # and the kept actors serve the next run as before
    assert outputs("ray", 2) == outputs("processes", 2)
