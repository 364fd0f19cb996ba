"""How long a ``headrace worker`` takes from spawn to ready and to its first claim.

    python bench/probes/worker_start.py --tree base=/work/main --tree new=/work/wt/x
        [--repeat 5] [--store sqlite|postgresql] [--workers 1] [--jobs 20]

Two measures per tree, the trees alternated within each repeat so they share the
machine's noise (run it under ``flock /work/wt/bench.lock``):

- imports: ``python -X importtime -c "import headrace.cli.worker"``, the inclusive time of
  ``headrace.cli.worker``; and a real worker under ``-X importtime`` (serving an empty
  queue) up to its "serving" line: the sum of every module's own time, the interpreter's
  and those imported while the command line is read and the store opened included;
- start: ``python -m headrace worker --store URL --queues bench=8 --import
  bench.jobs_noop`` on a fresh store holding ``--jobs`` queued no-op jobs: wall time from
  spawn to the "worker ... serving" line (ready), the worker's CPU seconds at that moment
  (``/proc``, clock-tick resolution), and wall time from spawn to the first ``locked``
  event the store recorded (the first claim). With ``--workers 2`` both start at once, as
  in ``bench/queue.py``'s drains: the first and the second ready, and the gap between.

Each tree runs its own ``src`` (``PYTHONPATH=<tree>/src``) from its root (where
``bench/jobs_noop.py`` is), and prepares its own stores (its migrations). Medians go to
stdout.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import re
import signal
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import psycopg  # noqa: E402
from bench import jobs_noop  # noqa: E402

PG_SERVER = os.environ.get("HR_BENCH_PG", "postgresql://postgres@127.0.0.1:5432")
#: The probe's throwaway PostgreSQL database, dropped at the end.
PG_DB = f"hr_probe_{os.getpid()}"
READY = re.compile(rb"^worker \S+ serving")
ORDINALS = ("first", "second", "third", "fourth")
FIRST_CLAIM = "SELECT min(at_ms) FROM job_events WHERE to_status = 'locked'"


def env_for(tree: Path) -> dict[str, str]:
    """The environment a tree's processes run in: its own ``src`` first."""
    return {**os.environ, "PYTHONPATH": str(tree / "src")}


def own_times(lines: Iterable[str]) -> dict[str, float]:
    """``-X importtime`` lines read: each module's own milliseconds (and ``| total``)."""
    times: dict[str, float] = {}
    for line in lines:
        if not line.startswith("import time:") or "self [us]" in line:
            continue
        own, inclusive, name = (part.strip() for part in line[12:].split("|"))
        times[name] = int(own) / 1000
        times.setdefault("| inclusive " + name, int(inclusive) / 1000)
    return times


def import_worker_module(tree: Path) -> float:
    """Milliseconds: ``import headrace.cli.worker``, inclusive (``-X importtime``)."""
    done = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", "import headrace.cli.worker"],
        cwd=tree,
        env=env_for(tree),
        capture_output=True,
        check=True,
        text=True,
    )
    return own_times(done.stderr.splitlines())["| inclusive headrace.cli.worker"]


def imports_until_serving(tree: Path, url: str) -> float:
    """Milliseconds: every module's own import time in a real worker, up to "serving".

    The worker serves a queue with no jobs, leaving those queued to the timed start; a
    module loaded by ``importlib.import_module`` (the ``--import`` one) is not counted,
    its own imports are.
    """
    cmd = [
        sys.executable, "-X", "importtime", "-m", "headrace", "worker", "--store", url,
        "--queues", "probe-idle=1", "--import", "bench.jobs_noop",
    ]  # fmt: skip
    proc = subprocess.Popen(
        cmd, cwd=tree, env=env_for(tree), stderr=subprocess.PIPE, text=True,
        start_new_session=True,
    )  # fmt: skip
    lines: list[str] = []
    try:
        assert proc.stderr is not None
        for line in proc.stderr:
            if READY.match(line.encode()):
                break
            lines.append(line)
        else:
            raise RuntimeError(f"worker exited before ready ({proc.wait()}): {''.join(lines)}")
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.communicate(timeout=15)
    return sum(ms for name, ms in own_times(lines).items() if not name.startswith("|"))


def cpu_seconds(pid: int) -> float:
    """User + system CPU of a process so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


#: Run by the tree under test: migrate the store and queue the jobs.
PREPARE = """
import sys
from bench import jobs_noop
from headrace import Client
with Client(store=sys.argv[1], run_workers=False) as client:
    client.jobs.schedule_many(jobs_noop.TYPE, [{}] * int(sys.argv[2]))
"""


def fresh_store(tree: Path, kind: str, tmp: Path, serial: int, jobs: int) -> str:
    """A store migrated by ``tree`` with ``jobs`` no-op jobs queued; its URL."""
    if kind == "sqlite":
        url = f"sqlite:///{tmp / f'probe-{serial}.db'}"
    else:
        url = f"{PG_SERVER}/{PG_DB}"
        with psycopg.connect(f"{PG_SERVER}/postgres", autocommit=True) as conn:
            conn.execute(f"DROP DATABASE IF EXISTS {PG_DB}")
            conn.execute(f"CREATE DATABASE {PG_DB}")
    subprocess.run(
        [sys.executable, "-c", PREPARE, url, str(jobs)], cwd=tree, env=env_for(tree), check=True
    )
    return url


def first_claim(url: str) -> int | None:
    """Epoch ms of the first ``locked`` event in the store, None if none yet."""
    if url.startswith("sqlite:///"):
        with contextlib.closing(sqlite3.connect(url.removeprefix("sqlite:///"))) as conn:
            return conn.execute(FIRST_CLAIM).fetchone()[0]  # type: ignore[no-any-return]
    with psycopg.connect(url) as conn:
        row = conn.execute(FIRST_CLAIM).fetchone()
        return None if row is None else row[0]


def start_workers(tree: Path, url: str, count: int) -> dict[str, Any]:
    """Spawn ``count`` workers at once; their ready times, CPU at ready, first claim."""
    cmd = [
        sys.executable, "-m", "headrace", "worker", "--store", url,
        "--queues", f"{jobs_noop.QUEUE}=8", "--import", "bench.jobs_noop",
    ]  # fmt: skip
    spawned = time.time()
    procs = [
        subprocess.Popen(
            cmd, cwd=tree, env=env_for(tree), stderr=subprocess.PIPE, start_new_session=True
        )
        for _ in range(count)
    ]
    ready: list[float | None] = [None] * count
    cpu: list[float | None] = [None] * count
    said: list[list[str]] = [[] for _ in procs]

    def watch(i: int, proc: subprocess.Popen[bytes]) -> None:
        # One reader per worker: a line is timed as it comes, not after another's.
        assert proc.stderr is not None
        for line in proc.stderr:
            said[i].append(line.decode(errors="replace"))
            if READY.match(line):
                ready[i] = time.time() - spawned
                cpu[i] = cpu_seconds(proc.pid)
                return

    readers = [threading.Thread(target=watch, args=(i, p)) for i, p in enumerate(procs)]
    try:
        for reader in readers:
            reader.start()
        for reader in readers:
            reader.join(60)
        for i, proc in enumerate(procs):
            if ready[i] is None:
                raise RuntimeError(f"worker not ready ({proc.poll()}): {''.join(said[i])}")
        deadline = time.monotonic() + 10
        first = None
        while first is None and time.monotonic() < deadline:
            first = first_claim(url)
            if first is None:
                time.sleep(0.01)
    finally:
        for proc in procs:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGTERM)
        for proc in procs:
            proc.wait(15)
    return {
        "ready_ms": sorted(1000 * r for r in ready if r is not None),
        "cpu_at_ready_ms": [1000 * c for c in cpu if c is not None],
        "first_claim_ms": None if first is None else first - 1000 * spawned,
    }


@contextlib.contextmanager
def dropped_at_end(kind: str) -> Iterator[None]:
    """Drop the probe's PostgreSQL database once done (nothing to do for SQLite)."""
    try:
        yield
    finally:
        if kind == "postgresql":
            with psycopg.connect(f"{PG_SERVER}/postgres", autocommit=True) as conn:
                conn.execute(f"DROP DATABASE IF EXISTS {PG_DB}")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    p.add_argument("--tree", action="append", required=True, help="name=path of a repo tree")
    p.add_argument("--repeat", type=int, default=5)
    p.add_argument("--store", choices=("sqlite", "postgresql"), default="sqlite")
    p.add_argument("--workers", type=int, default=1, choices=range(1, len(ORDINALS) + 1))
    p.add_argument("--jobs", type=int, default=20)
    p.add_argument("--skip-imports", action="store_true")
    args = p.parse_args()
    trees = {k: Path(v).resolve() for k, v in (t.split("=", 1) for t in args.tree)}
    rows: dict[str, dict[str, list[float]]] = {name: {} for name in trees}

    def add(name: str, key: str, value: float | None) -> None:
        if value is not None:
            rows[name].setdefault(key, []).append(value)

    with tempfile.TemporaryDirectory() as tmp, dropped_at_end(args.store):
        serial = 0
        for _ in range(args.repeat):
            for name, tree in trees.items():
                serial += 1
                url = fresh_store(tree, args.store, Path(tmp), serial, args.jobs)
                if not args.skip_imports:
                    add(name, "import headrace.cli.worker ms", import_worker_module(tree))
                    add(name, "worker's imports to ready ms", imports_until_serving(tree, url))
                seen = start_workers(tree, url, args.workers)
                for i, ms in enumerate(seen["ready_ms"]):
                    add(name, f"spawn -> ready ms ({ORDINALS[i]} worker)", ms)
                for ms in seen["cpu_at_ready_ms"]:
                    add(name, "CPU at ready ms (each worker)", ms)
                if args.workers > 1:
                    add(name, "ready gap ms", max(seen["ready_ms"]) - min(seen["ready_ms"]))
                add(name, "spawn -> first claim ms", seen["first_claim_ms"])
    print(f"store {args.store}, {args.workers} worker(s), {args.repeat} repeats; medians")
    keys = list(dict.fromkeys(k for row in rows.values() for k in row))
    names = list(trees)
    print(f"{'':40}" + "".join(f"{n:>12}" for n in names) + ("   ratio" if len(names) == 2 else ""))
    for key in keys:
        meds = [statistics.median(rows[n][key]) if rows[n].get(key) else None for n in names]
        cells = "".join(f"{m:12.1f}" if m is not None else f"{'-':>12}" for m in meds)
        ratio = ""
        if len(meds) == 2 and meds[0] and meds[1] is not None:
            ratio = f"   {meds[1] / meds[0]:.2f}"
        print(f"{key:40}{cells}{ratio}")


if __name__ == "__main__":
    main()
