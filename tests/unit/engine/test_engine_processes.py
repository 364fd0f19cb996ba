"""The processes executor: same results as the reference; errors and stops reach the caller."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from headrace.connectors.memory import InMemoryProvider
from headrace.engine import EngineOptions, UserFunctionError, run
from headrace.engine.executors.pool import WorkerCrashed
from headrace.pipeline import Pipeline, counting, summing, tumbling

OPTIONS = EngineOptions(batch_size=5, split_items=8)
SLOW = settings(max_examples=4, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@SLOW
@given(st.lists(st.sampled_from(["a b", "b c c", "d", ""]), max_size=40))
def test_word_count_and_sum_in_two_and_four_processes(lines: list[str]) -> None:
    ref = Counter(w for line in lines for w in line.split())
    for par in (2, 4):
        p = Pipeline.create()
        words = p.read_from(Pipeline.from_list("in", lines)).flat_map(lambda ln: ln.split())
        words.group_by(lambda w: w).aggregate(counting()).write_to(Pipeline.to_map("counts"))
        words.map(len).aggregate(summing()).write_to(Pipeline.to_list("total"))
        provider = InMemoryProvider()
        metrics = run(p, provider, par, executor="processes", options=OPTIONS)
        assert provider.maps.get("counts", {}) == dict(ref)
        assert provider.lists["total"] == [sum(len(w) for w in ref.elements())]
        assert metrics.received_count == len(lines)


@SLOW
@given(st.lists(st.tuples(st.integers(0, 5), st.integers(0, 3000)), max_size=40))
def test_windows_and_sort_in_processes(events: list[Any]) -> None:
    events = sorted(events, key=lambda e: e[1])
    ref = Counter((k, t - t % 1000) for k, t in events)
    p = Pipeline.create()
    s = p.read_from(Pipeline.items(events))
    s.with_timestamps(lambda e: e[1], 0).window(tumbling(1000)).group_by(lambda e: e[0]).aggregate(
        counting()
    ).write_to(Pipeline.to_list("w"))
    s.sort(key_fn=lambda e: (e[1], e[0])).write_to(Pipeline.to_list("sorted"))
    provider = InMemoryProvider()
    run(p, provider, 3, executor="processes", options=OPTIONS)
    assert {(k, st): c for st, _e, k, c in provider.lists.get("w", [])} == dict(ref)
    assert provider.lists.get("sorted", []) == sorted(events, key=lambda e: (e[1], e[0]))


def test_a_large_output_batch_reaches_the_sink_whole_and_in_order() -> None:
    from headrace.engine.executors.sinks import SINK_PART_ITEMS

    # The sort emits everything as one batch at the end: more than one message's part.
    n = 2 * SINK_PART_ITEMS + 5
    items = [(i * 7919) % n for i in range(n)]
    p = Pipeline.create()
    p.read_from(Pipeline.items(items)).sort(key_fn=lambda x: -x).write_to(Pipeline.to_list("o"))
    provider = InMemoryProvider()
    run(p, provider, 2, executor="processes")
    assert provider.lists["o"] == sorted(items, reverse=True)


def _exit_at_50(x: int) -> int:
    if x == 50:
        os._exit(3)  # the worker process ends without a word, as if killed
    return x


def test_a_worker_that_dies_mid_run_fails_the_run() -> None:
    # Without a control or snapshots the parent sleeps until a report comes; a worker's
    # end must wake it too, and fail the run rather than leave it waiting.
    p = Pipeline.create()
    p.read_from(Pipeline.items(list(range(100)))).map(_exit_at_50).write_to(Pipeline.to_list("out"))
    with pytest.raises(WorkerCrashed, match=r"worker \d died \(exit code 3\)"):
        run(p, InMemoryProvider(), 2, options=OPTIONS)


def test_callable_sink_runs_in_the_calling_process() -> None:
    got: list[int] = []
    p = Pipeline.create()
    p.read_from(Pipeline.items(range(100))).map(lambda x: x * x).write_to(
        Pipeline.to_callable(got.append)
    )
    run(p, InMemoryProvider(), 2, executor="processes", options=OPTIONS)
    assert sorted(got) == [x * x for x in range(100)]


def _explode(x: int) -> int:
    if x == 37:
        msg = "no 37s"
        raise ValueError(msg)
    return x


@pytest.mark.parametrize("executor", ["inprocess", "processes"])
def test_user_function_error_names_stage_item_and_traceback(executor: str) -> None:
    p = Pipeline.create()
    p.read_from(Pipeline.items(range(100))).map(lambda x: x + 1).map(_explode).write_to(
        Pipeline.to_list("out")
    )
    with pytest.raises(UserFunctionError) as info:
        run(p, InMemoryProvider(), 2, executor=executor, options=OPTIONS)
    assert info.value.stage == "map#2"
    assert info.value.item == "37"
    assert "no 37s" in info.value.traceback_text and "_explode" in info.value.traceback_text


def test_error_in_a_key_function_names_the_aggregate() -> None:
    p = Pipeline.create()
    p.read_from(Pipeline.items([1, 2, 0])).group_by(lambda x: 1 // x).aggregate(
        counting()
    ).write_to(Pipeline.to_list("out"))
    with pytest.raises(UserFunctionError) as info:
        run(p, InMemoryProvider(), 1)
    assert info.value.stage == "aggregate#1" and info.value.item == "0"


class Stop(Exception):
    pass


@pytest.mark.parametrize("executor", ["inprocess", "processes"])
def test_control_check_stops_an_unbounded_run(executor: str) -> None:
    calls = []

    class Control:
        def check(self) -> None:
            calls.append(1)
            if len(calls) > 20:
                raise Stop

    p = Pipeline.create()
    p.read_from(Pipeline.generator(rate=1000)).write_to(Pipeline.to_list("out"))
    with pytest.raises(Stop):
        run(p, InMemoryProvider(), 2, Control(), executor=executor)


class _Point:
    def __init__(self, x: int) -> None:
        self.x = x


def test_pool_messages_carry_main_classes_by_value(monkeypatch: pytest.MonkeyPatch) -> None:
    import pickle
    import sys

    from headrace.engine.executors import messages

    ordinary = (3, "sink", 7, [1, "a", (2.5, None)])
    assert messages.dumps(ordinary) == pickle.dumps(ordinary, pickle.HIGHEST_PROTOCOL)
    # A class of the user's __main__, which plain pickle would name by reference: pool
    # processes do not import that main, so it must travel by value.
    main = sys.modules["__main__"]
    monkeypatch.setattr(_Point, "__module__", "__main__")
    monkeypatch.setattr(main, "_Point", _Point, raising=False)
    assert b"__main__" in pickle.dumps(_Point(1))
    blob = messages.dumps((1, [_Point(5)]))
    monkeypatch.delattr(main, "_Point")  # as in a pool process: no such name in __main__
    run_id, (point,) = pickle.loads(blob)
    assert run_id == 1 and point.x == 5  # by reference, loads would fail to find it


#: A run of a pipeline whose output fills the pool's pipe to the parent, killed mid-run.
KILLED_PARENT_SCRIPT = """
import os, time
from headrace.connectors.memory import InMemoryProvider
from headrace.engine import run
from headrace.pipeline import Pipeline

p = Pipeline.create()
p.read_from(Pipeline.items(list(range(2_000_000)))).map(lambda i: [i] * 8).write_to(
    Pipeline.to_list("out")
)
print("running", flush=True)
run(p, InMemoryProvider(), 2, executor="processes")
"""


def _marked(mark: str) -> list[int]:
    """Processes whose environment carries ``mark`` (the script and what it started)."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/environ", "rb") as f:
                if mark.encode() in f.read():
                    found.append(int(entry))
        except OSError:
            continue
    return found


def test_pool_processes_leave_when_the_parent_is_killed_mid_run(tmp_path: Path) -> None:
    # A pool worker must not hang at exit flushing output to a parent that is gone: it
    # would hold the fork server alive too, and both would live on after every crash.
    mark = f"HR_POOL_TEST_{uuid.uuid4().hex}"
    script = tmp_path / "killed.py"
    script.write_text(KILLED_PARENT_SCRIPT)
    env = {**os.environ, mark: "1"}
    with subprocess.Popen(
        [sys.executable, str(script)], env=env, stdout=subprocess.PIPE, text=True
    ) as proc:
        assert proc.stdout is not None and proc.stdout.readline().strip() == "running"
        deadline = time.monotonic() + 60
        while len(_marked(mark)) < 4:  # the script, the fork server, two pool workers
            assert time.monotonic() < deadline, f"the pool did not start: {_marked(mark)}"
            time.sleep(0.05)
        time.sleep(0.5)  # mid-run: the workers go on filling the pipe to the parent
        proc.kill()
    deadline = time.monotonic() + 90  # the workers finish the run, then see the parent gone
    while left := _marked(mark):
        assert time.monotonic() < deadline, f"processes left after the parent died: {left}"
        time.sleep(0.1)
