"""Large ``Pipeline.items`` sources reach pool workers through one shared file."""

from __future__ import annotations

import glob
import os
import pickle
import shutil
import subprocess
import sys
import tempfile
import threading
from typing import Any

import pytest

from headrace.connectors.memory import InMemoryProvider
from headrace.engine import EngineOptions, run
from headrace.engine.executors import shared_items
from headrace.engine.plan import build_plan
from headrace.pipeline import Pipeline, summing


def _pipeline(items: Any) -> Pipeline:
    p = Pipeline.create()
    p.read_from(Pipeline.items(items)).map(lambda x: x * 2).aggregate(summing()).write_to(
        Pipeline.to_list("sum")
    )
    return p


def test_a_shared_sequence_indexes_and_slices_like_the_list() -> None:
    items = [f"item {i}" for i in range(103)]
    sharing = shared_items.Sharing(build_plan(_pipeline(items)), 10)
    folders = list(sharing.folders)
    assert len(folders) == 1 and os.path.isdir(folders[0])
    try:
        payload = sharing.dumps({"items": items})
        sharing.start()
        assert len(payload) < 1000  # the items are in the file, not the payload
        shared = shared_items.loads(payload)["items"]
        assert isinstance(shared, shared_items.SharedItems)
        assert len(shared) == 103 and list(shared) == items
        assert shared[7] == items[7] and shared[-1] == items[-1]
        for lo, hi in ((0, 10), (5, 27), (95, 200), (30, 30), (0, 103)):
            assert shared[lo:hi] == items[lo:hi]
        assert shared[3:50:7] == items[3:50:7]
        with pytest.raises(IndexError):
            shared[103]
        assert pickle.loads(pickle.dumps(shared))[42] == items[42]
        sharing.check()
        assert sorted(os.listdir(folders[0]), key=int) == [str(k) for k in range(11)]
    finally:
        sharing.close()
    assert not os.path.exists(folders[0])


def test_short_sequences_and_ranges_travel_in_the_payload() -> None:
    sharing = shared_items.Sharing(build_plan(_pipeline(list(range(10)))), 10)
    assert sharing.shared == {}
    sharing = shared_items.Sharing(build_plan(_pipeline(range(1000))), 10)
    assert sharing.shared == {}


def test_a_reader_waits_for_a_split_written_after_it_asked() -> None:
    items = list(range(40))
    sharing = shared_items.Sharing(build_plan(_pipeline(items)), 10)
    try:
        shared = shared_items.loads(sharing.dumps(items))
        got: list[Any] = []
        reader = threading.Thread(target=lambda: got.extend(shared[25:35]))
        reader.start()  # nothing written yet: it waits for splits 2 and 3
        sharing.start()
        reader.join(timeout=30)
        assert got == items[25:35]
    finally:
        sharing.close()


def test_a_run_in_processes_reads_shared_items_and_removes_the_file() -> None:
    items = list(range(5000))
    before = set(glob.glob(os.path.join(shared_items._DIR or "/tmp", "headrace-items-*")))
    for par in (2, 3):
        provider = InMemoryProvider()
        options = EngineOptions(batch_size=64, split_items=256)
        run(_pipeline(items), provider, par, executor="processes", options=options)
        assert provider.lists["sum"] == [2 * sum(items)]
    after = set(glob.glob(os.path.join(shared_items._DIR or "/tmp", "headrace-items-*")))
    assert after <= before


class _Unpicklable:
    def __reduce__(self) -> Any:
        msg = "this item cannot be pickled"
        raise TypeError(msg)


def test_an_item_that_cannot_be_pickled_fails_the_run_with_its_error() -> None:
    items: list[Any] = [*range(300), _Unpicklable()]
    options = EngineOptions(batch_size=16, split_items=32)
    p = Pipeline.create()
    p.read_from(Pipeline.items(items)).write_to(Pipeline.to_list("out"))
    with pytest.raises(TypeError, match="cannot be pickled"):
        run(p, InMemoryProvider(), 2, executor="processes", options=options)


def test_a_new_run_removes_the_folders_of_processes_that_died_mid_run() -> None:
    where = shared_items._DIR or tempfile.gettempdir()
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True).stdout.strip()  # fmt: skip
    orphan = os.path.join(where, f"headrace-items-{dead}-test")
    os.makedirs(orphan, exist_ok=True)
    mine = os.path.join(where, f"headrace-items-{os.getpid()}-test")
    os.makedirs(mine, exist_ok=True)
    try:
        sharing = shared_items.Sharing(build_plan(_pipeline(list(range(100)))), 10)
        sharing.close()
        assert not os.path.exists(orphan)
        assert os.path.exists(mine)  # a live process's run may still read it
    finally:
        shutil.rmtree(orphan, ignore_errors=True)
        shutil.rmtree(mine, ignore_errors=True)
