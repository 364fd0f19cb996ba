"""Text, CSV and JSON-lines files: sources split into byte ranges, sinks as part files."""

from __future__ import annotations

import csv
import glob
import io
import json
import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import IO, Any

from headrace.connectors import base
from headrace.pipeline import sinks, sources

__all__ = ["FileSinkConnector", "FileSourceConnector", "expand_paths", "iter_lines"]

#: How many bytes a read takes from the file at once.
_BLOCK = 1 << 20
#: The source's last splits that are cut in smaller ones, and in how many (see
#: ``FileSourceConnector.splits``).
TAIL_SPLITS = 2
TAIL_PARTS = 4


def expand_paths(path: str) -> list[str]:
    """The files a path names: itself, the files of a directory, or a glob's matches."""
    if os.path.isdir(path):
        return sorted(
            os.path.join(path, f) for f in os.listdir(path) if os.path.isfile(os.path.join(path, f))
        )
    if any(c in path for c in "*?["):
        return sorted(p for p in glob.glob(path) if os.path.isfile(p))
    return [path]


def iter_lines(path: str, start: int, end: int, encoding: str) -> Iterator[list[str]]:
    """Yields blocks of the lines whose first byte lies in ``[start, end)``."""
    with open(path, "rb") as fh:
        if start:
            fh.seek(start - 1)
            if fh.read(1) != b"\n":
                start += len(fh.readline())  # the previous range owns the partial line
        fh.seek(start)
        pos = start
        while pos < end:
            buf = fh.read(min(_BLOCK, end - pos))
            if not buf:
                break
            pos += len(buf)
            if not buf.endswith(b"\n"):
                tail = fh.readline()  # finish the last line, even past `end`
                pos += len(tail)
                buf += tail
            yield buf.decode(encoding).splitlines()


class _FilePartition:
    """Parses one byte range; keeps at most one decoded block in memory."""

    def __init__(
        self, desc: sources.FileSource, path: str, start: int, end: int, skip: int = 0
    ) -> None:
        self._blocks = iter_lines(path, start, end, desc.encoding)
        self._pending: list[Any] = []
        self._pos = 0
        self._read = 0  # items handed out: the position a snapshot saves
        self._skip = skip
        self._desc = desc
        self._start = start
        self._header: list[str] | None = None
        if desc.fmt == "csv" and desc.header:
            with open(path, encoding=desc.encoding, newline="") as fh:
                self._header = next(csv.reader(fh), [])

    def _parse(self, lines: list[str]) -> list[Any]:
        fmt = self._desc.fmt
        if fmt == "text":
            return lines
        if fmt == "jsonl":
            return [json.loads(ln) for ln in lines if ln.strip()]
        rows = list(csv.reader(lines))
        if self._header is None:
            return rows
        if self._start == 0 and rows and rows[0] == self._header:
            rows = rows[1:]
            self._start = -1
        header = self._header
        return [dict(zip(header, r, strict=False)) for r in rows]

    def next_batch(self, max_items: int) -> Sequence[Any] | None:
        while True:
            while self._pos >= len(self._pending):
                block = next(self._blocks, None)
                if block is None:
                    return None
                self._pending, self._pos = self._parse(block), 0
            if self._skip:
                # A restored split re-parses its range and drops what was already read:
                # a byte offset would have to agree with the block and CSV-header logic.
                n = min(self._skip, len(self._pending) - self._pos)
                self._pos += n
                self._read += n
                self._skip -= n
                continue
            batch = self._pending[self._pos : self._pos + max_items]
            self._pos += len(batch)
            self._read += len(batch)
            return batch

    def snapshot(self) -> Any:
        """Items of this byte range read so far."""
        return self._read

    def close(self) -> None:
        self._pending = []


@dataclass(frozen=True)
class FileSourceConnector:
    """Splits each file into byte ranges of a fixed size (64 bytes per split item)."""

    desc: sources.FileSource

    def prepare(self, provider: base.DataStructureProvider) -> None:
        """Nothing to prepare."""

    def splits(self, provider: base.DataStructureProvider, split_items: int) -> list[Any]:
        """``(path, start, end)`` ranges; the size never depends on the parallelism.

        The last ``TAIL_SPLITS`` ranges of the source are cut in up to ``TAIL_PARTS``
        each, none smaller than a ``TAIL_PARTS``-th of the size (a small file stays one
        split). Workers claim splits in order as they go (``engine.feed``), so a run
        ends when the worker that claimed the last split is through it while the
        others, out of splits, wait: the smaller the last splits, the closer together
        they finish.
        """
        size = max(1, split_items) * 64
        out: list[Any] = []
        for path in expand_paths(self.desc.path):
            total = os.path.getsize(path)
            out.extend((path, lo, min(lo + size, total)) for lo in range(0, total, size))
        tail: list[Any] = []
        for path, lo, hi in out[-TAIL_SPLITS:]:
            parts = max(1, min(TAIL_PARTS, (hi - lo) * TAIL_PARTS // size))
            step = -(-(hi - lo) // parts)
            tail.extend((path, a, min(a + step, hi)) for a in range(lo, hi, step))
        return out[: max(0, len(out) - TAIL_SPLITS)] + tail

    def open(
        self, split: Any, provider: base.DataStructureProvider, resume: Any = None
    ) -> base.SourcePartition:
        """Reads one byte range (skipping the ``resume`` items a snapshot counted)."""
        path, start, end = split
        return _FilePartition(self.desc, path, start, end, int(resume or 0))


class _PartFile:
    def __init__(self, desc: sinks.FileSink, partition: int, append: bool = False) -> None:
        os.makedirs(desc.path, exist_ok=True)
        ext = {"text": ".txt", "csv": ".csv", "jsonl": ".jsonl"}[desc.fmt]
        self._fh: IO[str] = open(  # noqa: SIM115 - closed by close()
            os.path.join(desc.path, f"part-{partition:05d}{ext}"),
            "a" if append else "w",
            encoding=desc.encoding,
            newline="",
        )
        self._fmt = desc.fmt
        self._csv_header: list[str] | None = None

    def write_batch(self, items: list[Any]) -> None:
        if self._fmt == "text":
            self._fh.writelines(f"{x}\n" for x in items)
        elif self._fmt == "jsonl":
            self._fh.writelines(json.dumps(x) + "\n" for x in items)
        else:
            self._write_csv(items)

    def _write_csv(self, items: list[Any]) -> None:
        buf = io.StringIO()
        writer = csv.writer(buf, lineterminator="\n")
        for item in items:
            if isinstance(item, dict):
                if self._csv_header is None:
                    self._csv_header = [str(k) for k in item]
                    writer.writerow(self._csv_header)
                writer.writerow([item.get(k) for k in self._csv_header])
            else:
                writer.writerow(list(item))
        self._fh.write(buf.getvalue())

    def close(self) -> None:
        self._fh.close()


@dataclass(frozen=True)
class FileSinkConnector:
    """One part file per partition, ``part-00000.txt`` …, under the sink's directory."""

    desc: sinks.FileSink

    def open(
        self, provider: base.DataStructureProvider, partition: int, resume: bool = False
    ) -> base.SinkPartition:
        """Creates (truncates) this partition's part file; a restored run appends to it.

        Files are at least once at best: what was written after the snapshot a run
        restores from is written again.
        """
        return _PartFile(self.desc, partition, append=resume)
