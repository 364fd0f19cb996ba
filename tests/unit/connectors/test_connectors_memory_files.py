"""In-memory and file connectors: splits cover the input exactly once."""

from __future__ import annotations

import json
import os
from itertools import pairwise
from pathlib import Path
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from headrace.connectors.base import DataStructureProvider
from headrace.connectors.files import FileSinkConnector, FileSourceConnector
from headrace.connectors.memory import (
    InMemoryProvider,
    ListConnector,
    MemoryStream,
    StreamConnector,
)
from headrace.engine import EngineOptions, run
from headrace.pipeline import FileSink, FileSource, ListSource, Pipeline, StreamSource


def read_all(connector: Any, provider: DataStructureProvider, split_items: int) -> list[Any]:
    out: list[Any] = []
    for split in connector.splits(provider, split_items):
        part = connector.open(split, provider)
        while (batch := part.next_batch(3)) is not None:
            out.extend(batch)
        part.close()
    return out


@given(st.lists(st.integers()), st.integers(1, 10))
def test_list_splits_cover_the_list_once(xs: list[int], split_items: int) -> None:
    provider: InMemoryProvider = InMemoryProvider(lists={"l": xs})
    assert read_all(ListConnector(ListSource("l")), provider, split_items) == xs


def test_from_list_replaces_the_list_contents() -> None:
    provider = InMemoryProvider(lists={"l": [9, 9, 9]})
    ListConnector(ListSource("l", (1, 2))).prepare(provider)
    assert provider.lists["l"] == [1, 2]


def test_stream_reads_each_partition_from_earliest_or_latest() -> None:
    stream = MemoryStream(2, ["a", "b", "c"])
    provider = InMemoryProvider(streams={"s": stream})
    latest = StreamConnector(StreamSource("s", "latest")).splits(provider, 10)
    stream.append(["d"])
    stream.close()
    assert sorted(read_all(StreamConnector(StreamSource("s")), provider, 10)) == [
        "a",
        "b",
        "c",
        "d",
    ]
    parts = [StreamConnector(StreamSource("s")).open(s, provider) for s in latest]
    assert [p.next_batch(10) for p in parts] == [None, ["d"]]  # closed: partition 0 ends


lines = st.lists(st.text(alphabet="abc ,é", max_size=12), max_size=40)


@settings(max_examples=30)
@given(lines, st.integers(1, 4))
def test_text_byte_ranges_yield_each_line_once(
    tmp_path_factory: Any, rows: list[str], split_items: int
) -> None:
    path = tmp_path_factory.mktemp("t") / "in.txt"
    path.write_text("".join(r + "\n" for r in rows), encoding="utf-8")
    got = read_all(FileSourceConnector(FileSource(str(path))), InMemoryProvider(), split_items)
    assert got == rows


def test_a_file_source_ends_in_smaller_ranges(tmp_path: Path) -> None:
    path = tmp_path / "in.txt"
    path.write_bytes(b"x\n" * 1000)  # 2,000 bytes: ranges of 640 (split_items 10)
    splits = FileSourceConnector(FileSource(str(path))).splits(InMemoryProvider(), 10)
    ranges = [(lo, hi) for _path, lo, hi in splits]
    assert [hi - lo for lo, hi in ranges] == [640, 640, 160, 160, 160, 160, 80]
    assert all(a[1] == b[0] for a, b in pairwise(ranges))
    (small,) = FileSourceConnector(FileSource(str(path))).splits(InMemoryProvider(), 100)
    assert small[1:] == (0, 2000)  # a file within one split stays whole


def test_csv_and_jsonl_round_trip_through_pipeline_sinks(tmp_path: Path) -> None:
    src = tmp_path / "in.csv"
    src.write_text("name,n\n" + "".join(f"w{i},{i}\n" for i in range(50)))
    p = Pipeline.create()
    rows = p.read_from(Pipeline.from_csv(str(src)))
    rows.map(lambda r: {"name": r["name"], "n": int(r["n"]) * 2}).write_to(
        Pipeline.to_json_lines(str(tmp_path / "j"))
    )
    rows.write_to(Pipeline.to_csv(str(tmp_path / "c")))
    run(
        p,
        InMemoryProvider(),
        2,
        executor="processes",
        options=EngineOptions(batch_size=4, split_items=2),
    )
    parts = sorted(os.listdir(tmp_path / "j"))
    assert parts == ["part-00000.jsonl", "part-00001.jsonl"]
    got = [json.loads(ln) for f in parts for ln in (tmp_path / "j" / f).read_text().splitlines()]
    assert sorted(r["n"] for r in got) == [i * 2 for i in range(50)]
    q = Pipeline.create()
    q.read_from(Pipeline.from_csv(str(tmp_path / "c" / "*.csv"))).write_to(Pipeline.to_list("back"))
    provider = InMemoryProvider()
    run(q, provider)
    assert sorted(int(r["n"]) for r in provider.lists["back"]) == list(range(50))


def test_text_sink_writes_one_part_per_partition(tmp_path: Path) -> None:
    sink = FileSinkConnector(FileSink(str(tmp_path / "o")))
    part = sink.open(InMemoryProvider(), 3)
    part.write_batch([1, "x"])
    part.close()
    assert (tmp_path / "o" / "part-00003.txt").read_text() == "1\nx\n"


def test_file_partition_resumes_after_the_items_a_snapshot_counted(tmp_path: Any) -> None:
    from headrace.pipeline import FileSource

    path = os.path.join(tmp_path, "rows.csv")
    with open(path, "w") as fh:
        fh.write("a,b\n" + "".join(f"{i},{i * 2}\n" for i in range(50)))
    conn = FileSourceConnector(FileSource(path, "csv"))
    (split,) = conn.splits(InMemoryProvider(), 1000)
    first = conn.open(split, InMemoryProvider())
    head = list(first.next_batch(7) or [])
    position = first.snapshot()
    rest: list[Any] = []
    resumed = conn.open(split, InMemoryProvider(), position)
    while (batch := resumed.next_batch(5)) is not None:
        rest.extend(batch)
    assert position == 7
    assert head + rest == [{"a": str(i), "b": str(i * 2)} for i in range(50)]


def test_file_sink_appends_when_a_restored_run_reopens_it(tmp_path: Any) -> None:
    from headrace.pipeline import FileSink

    conn = FileSinkConnector(FileSink(str(tmp_path), "text"))
    for resume, items in ((False, ["a"]), (True, ["b"])):
        w = conn.open(InMemoryProvider(), 0, resume=resume)
        w.write_batch(items)
        w.close()
    with open(os.path.join(tmp_path, "part-00000.txt")) as fh:
        assert fh.read() == "a\nb\n"
