"""Engine benchmarks W1-W3, each against a hand-written loop calling the same functions.

  python bench/engine.py [--scale 100] [--repeat 3] [--par 1,2] [--only W1,W2,W3] [--cpu]
                         [--processes 3]

W1 word count: text lines -> flat_map(split) -> group_by(word) -> counting() -> Map.
W2 stateless chain: ints -> map(x*2) -> filter(x%3==0) -> map(x+1) -> sum.
W3 keyed tumbling window: CSV "key,ts" lines -> parse -> 1 s event-time windows
   per key -> counting() -> List of (start, end, key, count).
W1R W1 as Ray actors (a local 2-CPU cluster) against the process pool at the same
   parallelism (max of --par), same run, same input; its ratio is pool time over Ray's
   (goal >= 0.7). Needs ``headrace[ray]``.
--cpu also prints each W1-W3 and C row's median CPU seconds: this process's (the driver)
   plus the pool workers' (from /proc), and their ratio to the loop's CPU (``engine_cpu``).
--processes N runs the same rows in N fresh processes, one after another (pairs stay
   interleaved inside each), and ends with each row's value in every process, their
   median, its goal and whether the median meets it (``engine_goals``). One process's
   ratio is one draw: W1 p=1 has given 0.92 and 1.08 in two processes on the same code.
W2S W2's chain as a streaming job: a closed Stream of 3x W2's ints -> the same chain ->
   List, with guarantee exactly_once and 1 s snapshots against none (goal: ratio >= 0.95).
   --w2s-executor processes runs p=1 in a worker process too, as a pipeline job on a
   worker does (by default p=1 runs in-process, as client.run does).
C1F W1 through ``client.run`` as users call it: the text file -> store Map, on an embedded
   store (a temporary SQLite file; ``--store`` for another), against the hand loop that
   also writes its counts with one ``put_all`` into a Map of the same store.
C1L the same from ``Pipeline.items(lines)`` (the file's lines in a list, read before timing).
C2L W2 through ``client.run`` from ``Pipeline.items(list)`` -> store List, against the loop
   that also appends its sum to a List of the same store.
FIRST a first small run at parallelism 2 in a fresh process right after ``Client()``,
   against the second (warm) run of the same process: the median extra of the first,
   with the client's warm pool (the default) and without it (``warm_pool=False``).
The inputs are generated exactly like /work/shared/bench-peers/dataflow/common.py
(same seed, same algorithm, same file names under $DF_DATA), so checksums compare.
Ratios are engine items/s over the baseline's, taken in the same run, median of pairs;
every run ends with a table of each row's goal and whether it is met.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import random
import statistics
import sys
import time
from collections.abc import Callable, Iterable
from typing import Any

HERE = os.path.dirname(os.path.abspath(__file__))
# bench/ holds other scripts (queue.py) that would shadow the standard library: swap it
# for the repo root (``bench.engine_cpu`` is then importable).
sys.path[:] = [p for p in sys.path if os.path.abspath(p or ".") != HERE]
sys.path.insert(0, os.path.join(HERE, ".."))
sys.path.insert(0, os.path.join(HERE, "..", "src"))

from bench import engine_cpu as cpu  # noqa: E402
from bench import engine_goals as goals  # noqa: E402

import headrace.engine as engine  # noqa: E402
from headrace.connectors.memory import (  # noqa: E402
    InMemoryProvider,
    MemorySnapshotStore,
)
from headrace.pipeline import Pipeline, StreamSource, counting, summing, tumbling  # noqa: E402

DATA = os.environ.get("DF_DATA", "/tmp/dfbench-data")
VOCAB = 50_000
SEED = 20261123
W3_KEYS = 1000
W3_T0 = 1_700_000_000_000
W3_PER_MS = 10
W3_WINDOW_MS = 1000


# ------------------------------------------------------------------ inputs


def _vocabulary(rng: random.Random) -> list[str]:
    letters = "abcdefghijklmnopqrstuvwxyz"
    seen: set[str] = set()
    words: list[str] = []
    while len(words) < VOCAB:
        n = rng.choice((2, 3, 3, 4, 4, 5, 5, 5, 6, 6, 7, 8, 9, 10))
        w = "".join(rng.choice(letters) for _ in range(n))
        if w not in seen:
            seen.add(w)
            words.append(w)
    return words


def gen_w1(lines: int) -> str:
    path = os.path.join(DATA, f"w1_text_{lines}.txt")
    if os.path.exists(path):
        return path
    os.makedirs(DATA, exist_ok=True)
    rng = random.Random(SEED)
    vocab = _vocabulary(rng)
    cum, acc = [], 0.0
    for r in range(1, VOCAB + 1):
        acc += 1.0 / r
        cum.append(acc)
    tmp = path + f".tmp{os.getpid()}"
    with open(tmp, "w") as fh:
        done = 0
        while done < lines:
            n = min(100_000, lines - done)
            lens = [rng.randint(3, 13) for _ in range(n)]
            words = rng.choices(vocab, cum_weights=cum, k=sum(lens))
            out, i = [], 0
            for ln in lens:
                out.append(" ".join(words[i : i + ln]))
                i += ln
            fh.write("\n".join(out))
            fh.write("\n")
            done += n
    os.replace(tmp, path)
    return path


def gen_w3(events: int) -> str:
    path = os.path.join(DATA, f"w3_events_{events}.csv")
    if os.path.exists(path):
        return path
    os.makedirs(DATA, exist_ok=True)
    rng = random.Random(SEED + 3)
    keys = [f"k{k:04d}" for k in range(W3_KEYS)]
    tmp = path + f".tmp{os.getpid()}"
    with open(tmp, "w") as fh:
        fh.write("key,ts\n")
        done = 0
        while done < events:
            n = min(200_000, events - done)
            ks = rng.choices(keys, k=n)
            fh.write("".join(f"{ks[j]},{W3_T0 + (done + j) // W3_PER_MS}\n" for j in range(n)))
            done += n
    os.replace(tmp, path)
    return path


def _digest(lines: Iterable[str]) -> str:
    h = hashlib.sha256()
    for ln in sorted(lines):
        h.update(ln.encode())
        h.update(b"\n")
    return h.hexdigest()[:16]


def w1_checksum(counts: Iterable[tuple[str, int]]) -> str:
    merged: dict[str, int] = {}
    for w, c in counts:
        merged[w] = merged.get(w, 0) + int(c)
    total = sum(merged.values())
    body = _digest(f"{w} {c}" for w, c in merged.items())
    return f"{body}/distinct={len(merged)}/words={total}"


def w3_checksum(rows: Iterable[tuple[str, int, int]]) -> str:
    merged: dict[tuple[str, int], int] = {}
    for k, s, c in rows:
        merged[(k, s)] = merged.get((k, s), 0) + int(c)
    total = sum(merged.values())
    body = _digest(f"{k} {s} {c}" for (k, s), c in merged.items())
    return f"{body}/windows={len(merged)}/events={total}"


# ------------------------------------------------------------------ user functions
# The same functions go to the engine and to the baseline loop.

split_words = lambda line: line.split()  # noqa: E731
word_key = lambda w: w  # noqa: E731
double = lambda x: x * 2  # noqa: E731
div3 = lambda x: x % 3 == 0  # noqa: E731
inc = lambda x: x + 1  # noqa: E731
not_header = lambda line: not line.startswith("key,")  # noqa: E731
parse = lambda line: line.split(",")  # noqa: E731
event_ts = lambda e: int(e[1])  # noqa: E731
event_key = lambda e: e[0]  # noqa: E731


# ------------------------------------------------------------------ workloads


def w1_baseline(path: str) -> str:
    counts: dict[str, int] = {}
    get = counts.get
    with open(path) as fh:
        for line in fh:
            for w in split_words(line):
                k = word_key(w)
                counts[k] = get(k, 0) + 1
    return w1_checksum(counts.items())


def w1_engine(path: str, par: int, executor: Any = None) -> str:
    p = Pipeline.create()
    p.read_from(Pipeline.from_text(path)).flat_map(split_words).group_by(word_key).aggregate(
        counting()
    ).write_to(Pipeline.to_map("counts"))
    prov = InMemoryProvider()
    engine.run(p, prov, par, executor=executor)
    return w1_checksum(prov.maps["counts"].items())


def w1_ray_rows(path: str, n: int, par: int, repeat: int) -> None:
    """W1 on Ray actors (a local 2-CPU cluster) against the process pool, same input."""
    import ray

    from headrace.engine.executors.ray import RayExecutor

    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    on_ray = RayExecutor()
    w1_engine(path, par, "processes")  # warm the fork server
    w1_engine(path, par, on_ray)  # warm Ray's workers
    times: dict[str, list[float]] = {"processes": [], "ray": []}
    checks: dict[str, str] = {}
    ratios: list[float] = []
    for _ in range(repeat):
        tp, checks["processes"] = cpu.timed(lambda: w1_engine(path, par, "processes"))
        tr, checks["ray"] = cpu.timed(lambda: w1_engine(path, par, on_ray))
        times["processes"].append(tp)
        times["ray"].append(tr)
        ratios.append(tp / tr)
    items, refs = on_ray.exchanged
    per = items / max(refs, 1)
    goals.record("W1R", f"ray p={par}", statistics.median(ratios))
    for key, ts in times.items():
        med = statistics.median(ts)
        ratio = f"{statistics.median(ratios):.2f} (goal >= 0.7)" if key == "ray" else "1.00"
        same = "ok" if checks[key] == checks["processes"] else "MISMATCH"
        note = f"; {per:,.0f} items/exchange" if key == "ray" else ""
        row = f"| W1R | {n:,} | {key} p={par} | {med:.3f} | {n / med:,.0f} | {ratio} |"
        print(f"{row} {same}{note} |", flush=True)
    ray.shutdown()


def w2_baseline(n: int) -> str:
    total = 0
    for x in range(n):
        y = double(x)
        if div3(y):
            total += inc(y)
    return str(total)


def w2_engine(n: int, par: int) -> str:
    p = Pipeline.create()
    p.read_from(Pipeline.items(range(n))).map(double).filter(div3).map(inc).aggregate(
        summing()
    ).write_to(Pipeline.to_list("sum"))
    prov = InMemoryProvider()
    engine.run(p, prov, par)
    return str(prov.lists["sum"][0])


def w3_baseline(path: str) -> str:
    counts: dict[tuple[str, int], int] = {}
    get = counts.get
    with open(path) as fh:
        for line in fh:
            line = line.rstrip("\n")
            if not not_header(line):
                continue
            e = parse(line)
            t = event_ts(e)
            kk = (event_key(e), t - t % W3_WINDOW_MS)
            counts[kk] = get(kk, 0) + 1
    return w3_checksum((k, s, c) for (k, s), c in counts.items())


def w3_engine(path: str, par: int) -> str:
    p = Pipeline.create()
    p.read_from(Pipeline.from_text(path)).filter(not_header).map(parse).with_timestamps(
        event_ts, allowed_lag_ms=0
    ).window(tumbling(W3_WINDOW_MS)).group_by(event_key).aggregate(counting()).write_to(
        Pipeline.to_list("windows")
    )
    prov = InMemoryProvider()
    engine.run(p, prov, par)
    return w3_checksum((k, s, c) for s, _e, k, c in prov.lists["windows"])


class RangeStream:
    """A closed Stream of ``range(n)`` dealt round-robin over partitions, made on read.

    Long enough for several 1 s snapshots without holding tens of millions of ints.
    """

    def __init__(self, n: int, partitions: int) -> None:
        self.n, self.parts = n, partitions

    def partition_count(self) -> int:
        return self.parts

    def end_offset(self, partition: int) -> int:
        return len(range(partition, self.n, self.parts))

    def read(self, partition: int, offset: int, max_count: int) -> list[int]:
        start = partition + offset * self.parts
        stop = min(self.n, start + max_count * self.parts)
        return list(range(start, stop, self.parts))

    def append(self, items: Any) -> None:
        raise TypeError("read-only")

    def is_closed(self) -> bool:
        return True


def w2s_engine(n: int, par: int, guarantee: str, executor: str | None = None) -> tuple[float, str]:
    """Times only the run: filling the Stream is setup, not the job."""
    stream = RangeStream(n, max(par, 1))
    p = Pipeline.create()
    p.read_from(StreamSource("ints")).map(double).filter(div3).map(inc).write_to(
        Pipeline.to_list("out")
    )
    prov = InMemoryProvider(streams={"ints": stream})  # type: ignore[dict-item]
    store = MemorySnapshotStore(prov) if guarantee != "none" else None
    opts = engine.EngineOptions(guarantee=guarantee, snapshot_interval_ms=1000)  # type: ignore[arg-type]
    t0 = time.perf_counter()
    engine.run(p, prov, par, options=opts, snapshots=store, executor=executor)
    elapsed = time.perf_counter() - t0
    return elapsed, str(sum(prov.lists["out"]))


def w2s_rows(n: int, pars: list[int], repeat: int, executor: str | None = None) -> None:
    """Exactly-once with 1 s snapshots against none, in the same run, per parallelism.

    ``executor`` None is the engine's choice (in-process at p=1, as ``client.run``);
    ``processes`` is how a pipeline job runs on a worker at every parallelism.
    """
    expected = w2_baseline(n)
    for par in pars:
        if par > 1 or executor == "processes":
            w2s_engine(1000, par, "none", executor)  # warm the fork server
        times: dict[str, list[float]] = {"none": [], "exactly_once": []}
        ratios: list[float] = []
        checks: dict[str, str] = {}
        for _ in range(repeat):
            for g in ("none", "exactly_once"):
                t, chk = w2s_engine(n, par, g, executor)
                times[g].append(t)
                checks[g] = "ok" if chk == expected else f"MISMATCH {chk} != {expected}"
            ratios.append(times["none"][-1] / times["exactly_once"][-1])
        how = f" {executor}" if executor else ""
        goals.record("W2S", f"p={par}{how} exactly_once", statistics.median(ratios))
        for g, ts in times.items():
            med = statistics.median(ts)
            ratio = (
                "1.00 (vs none)" if g == "none" else f"{statistics.median(ratios):.2f} (vs none)"
            )
            print(
                f"| W2S | {n:,} | headrace p={par}{how} {g} | {med:.3f} | {n / med:,.0f} | {ratio} "
                f"| {checks[g]} |",
                flush=True,
            )


# ------------------------------------------------------------------ client.run rows


class ClientRows:
    """W1/W2 through ``client.run`` on one embedded store, and their store-writing loops.

    Each side returns the name of the structure it wrote; the checksum reads it back from
    the store afterwards, outside the timing, for both sides alike.
    """

    def __init__(self, store: str | None) -> None:
        from headrace import Client

        if store is None:
            import tempfile

            store = f"sqlite:///{tempfile.mkdtemp(prefix='hr-bench-')}/bench.db"
        self.client = Client(store, run_workers=False)
        self.seq = 0

    def _name(self, kind: str) -> str:
        self.seq += 1
        return f"{kind}-{self.seq}"  # each run inserts into a fresh structure

    def w1_loop(self, lines: Iterable[str]) -> str:
        counts: dict[str, int] = {}
        get = counts.get
        for line in lines:
            for w in split_words(line):
                k = word_key(w)
                counts[k] = get(k, 0) + 1
        name = self._name("loop")
        self.client.get_map(name).put_all(counts)
        return name

    def w1_file_loop(self, path: str) -> str:
        with open(path) as fh:
            return self.w1_loop(fh)

    def w1_run(self, source: Any, par: int) -> str:
        name = self._name("run")
        p = Pipeline.create()
        p.read_from(source).flat_map(split_words).group_by(word_key).aggregate(counting()).write_to(
            Pipeline.to_map(name)
        )
        self.client.run(p, par)
        return name

    def w1_check(self, name: str) -> str:
        return w1_checksum(self.client.get_map(name).entries())

    def w2_loop(self, xs: list[int]) -> str:
        total = 0
        for x in xs:
            y = double(x)
            if div3(y):
                total += inc(y)
        name = self._name("loop")
        self.client.get_list(name).extend([total])
        return name

    def w2_run(self, xs: list[int], par: int) -> str:
        name = self._name("run")
        p = Pipeline.create()
        p.read_from(Pipeline.items(xs)).map(double).filter(div3).map(inc).aggregate(
            summing()
        ).write_to(Pipeline.to_list(name))
        self.client.run(p, par)
        return name

    def w2_check(self, name: str) -> str:
        return str(self.client.get_list(name).to_list())


def client_rows(wl: str, rows: ClientRows, path: str, n: int, pars: list[int], repeat: int) -> None:
    """One client.run workload against its loop, same store, same run, median of pairs."""
    base: Callable[[], str]
    eng: Callable[[int], str]
    check = rows.w1_check
    if wl == "C1F":
        base = lambda: rows.w1_file_loop(path)  # noqa: E731
        eng = lambda q: rows.w1_run(Pipeline.from_text(path), q)  # noqa: E731
    elif wl == "C1L":
        with open(path) as fh:
            lines = fh.read().splitlines()
        base = lambda: rows.w1_loop(lines)  # noqa: E731
        eng = lambda q: rows.w1_run(Pipeline.items(lines), q)  # noqa: E731
    else:
        xs = list(range(n))
        base = lambda: rows.w2_loop(xs)  # noqa: E731
        eng = lambda q: rows.w2_run(xs, q)  # noqa: E731
        check = rows.w2_check
    base()  # untimed: the first insert into a new store file, the first pages cached
    times: dict[str, list[float]] = {"loop + put_all": []}
    ratios: dict[str, list[float]] = {}
    checks: dict[str, str] = {}
    for _ in range(repeat):
        tb, name = cpu.timed(base, (wl, "loop + put_all") if cpu.MEASURE_CPU else None)
        times["loop + put_all"].append(tb)
        checks["loop + put_all"] = expected = check(name)
        for par in pars:
            key = f"client.run p={par}"
            te, name = cpu.timed(lambda q=par: eng(q), (wl, key) if cpu.MEASURE_CPU else None)  # type: ignore[misc]
            times.setdefault(key, []).append(te)
            ratios.setdefault(key, []).append(tb / te)
            got = check(name)
            checks[key] = "ok" if got == expected else f"MISMATCH {got} != {expected}"
    for key, rs in ratios.items():
        goals.record(wl, key, statistics.median(rs))
    for key, ts in times.items():
        med = statistics.median(ts)
        ratio = "1.00" if key not in ratios else f"{statistics.median(ratios[key]):.2f}"
        goal = " (goal >= 0.8)" if key.endswith("p=1") else ""
        shown = checks[key][:24] if key not in ratios else checks[key]
        print(
            f"| {wl} | {n:,} | {key} | {med:.3f} | {n / med:,.0f} | {ratio}{goal} | {shown} |",
            flush=True,
        )
    cpu.cpu_rows(wl, "loop + put_all")


FIRST_SCRIPT = """
import sys, tempfile, time
sys.path.insert(0, {src!r})
from headrace import Client
from headrace.pipeline import Pipeline, counting
c = Client(f"sqlite:///{{tempfile.mkdtemp()}}/first.db", run_workers=False, warm_pool={warm})
def run(name):
    p = Pipeline.create()
    p.read_from(Pipeline.items([f"w{{i % 97}} x" for i in range(2000)])).flat_map(
        str.split).group_by(lambda w: w).aggregate(counting()).write_to(Pipeline.to_map(name))
    t = time.perf_counter()
    c.run(p, 2)
    return time.perf_counter() - t
first, warm = run("a"), run("b")
print(first, warm)
"""


def first_rows(repeat: int) -> None:
    """A first run at p=2 right after ``Client()``, in fresh processes, against a warm one."""
    import subprocess

    src = os.path.join(HERE, "..", "src")
    for warm in (True, False):
        extra: list[float] = []
        for _ in range(repeat):
            out = subprocess.run(
                [sys.executable, "-c", FIRST_SCRIPT.format(src=src, warm=warm)],
                check=True,
                capture_output=True,
                text=True,
            ).stdout.split()
            extra.append(float(out[0]) - float(out[1]))
        how = "warm_pool (default)" if warm else "warm_pool=False"
        med = statistics.median(extra)
        goals.record("FIRST", how, med)
        goal = " (goal < 0.3 s)" if warm else ""
        print(f"| FIRST | 2,000 | {how} | {med:.3f} extra s{goal} | | | first - warm run |")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--scale", type=float, default=1.0, help="divide the sizes by this")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--par", default="1,2")
    ap.add_argument("--only", default="W1,W2,W3,W2S,C1F,C1L,C2L,FIRST")
    ap.add_argument("--store", help="C1F/C1L/C2L: the store URL (default: a temporary SQLite)")
    ap.add_argument(
        "--w2s-executor",
        choices=["inprocess", "processes"],
        help="W2S only: force the executor (processes: how a pipeline job runs on a worker)",
    )
    ap.add_argument(
        "--cpu",
        action="store_true",
        help="also print each row's CPU seconds (this process + pool workers, from /proc)",
    )
    ap.add_argument(
        "--processes",
        type=int,
        default=1,
        help="run the rows in this many fresh processes, one after another, and print the "
        "median of their values beside each process's and the goal (default 1: this one)",
    )
    ap.add_argument("--json", help=argparse.SUPPRESS)  # a child of --processes: values here
    a = ap.parse_args()
    if a.processes > 1 and a.json is None:
        goals.summary(goals.fan_out(sys.argv[1:], a.processes))
        return
    run_rows(a)
    if a.json is not None:
        goals.dump(a.json)
    else:
        goals.summary([goals.RECORDED])


def run_rows(a: argparse.Namespace) -> None:
    """Runs the rows ``--only`` names in this process, printing each as it ends."""
    cpu.MEASURE_CPU = a.cpu
    pars = [int(x) for x in a.par.split(",")]
    sizes = {
        "W1": int(2_000_000 / a.scale),
        "W2": int(5_000_000 / a.scale),
        "W3": int(2_000_000 / a.scale),
    }
    inputs: dict[str, Any] = {
        "W1": gen_w1(sizes["W1"]),
        "W2": sizes["W2"],
        "W3": gen_w3(sizes["W3"]),
    }
    runs: dict[str, tuple[Callable[[Any], str], Callable[[Any, int], str]]] = {
        "W1": (w1_baseline, w1_engine),
        "W2": (w2_baseline, w2_engine),
        "W3": (w3_baseline, w3_engine),
    }
    engine.run  # noqa: B018 - imported above; the first processes run starts the fork server
    print(
        "| workload | items | run | median s | items/s | x baseline (median of pairs) | checksum |"
    )
    print("|---|---:|---|---:|---:|---:|---|")
    client: ClientRows | None = None
    for wl in a.only.split(","):
        if wl in ("C1F", "C1L", "C2L"):
            client = client or ClientRows(a.store)
            n = sizes["W2" if wl == "C2L" else "W1"]
            client_rows(wl, client, inputs["W1"], n, pars, a.repeat)
            continue
        if wl == "FIRST":
            first_rows(a.repeat)
            continue
        if wl == "W1R":
            w1_ray_rows(inputs["W1"], sizes["W1"], max(pars), a.repeat)
            continue
        if wl == "W2S":
            w2s_rows(3 * sizes["W2"], pars, a.repeat, a.w2s_executor)
            continue
        base_fn, eng_fn = runs[wl]
        arg, n = inputs[wl], sizes[wl]
        if 2 in pars or any(p > 1 for p in pars):
            eng_fn(arg if wl != "W2" else 1000, max(pars))  # warm the fork server
        rows: dict[str, list[float]] = {"baseline": []}
        ratios: dict[str, list[float]] = {}
        checks: dict[str, str] = {}
        for _ in range(a.repeat):
            tb, chk_b = cpu.timed(
                lambda b=base_fn, x=arg: b(x), (wl, "baseline") if a.cpu else None
            )
            rows["baseline"].append(tb)
            checks["baseline"] = chk_b
            for par in pars:
                key = f"headrace p={par}"
                te, chk = cpu.timed(
                    lambda e=eng_fn, x=arg, q=par: e(x, q), (wl, key) if a.cpu else None
                )
                rows.setdefault(key, []).append(te)
                ratios.setdefault(key, []).append(tb / te)
                checks[key] = "ok" if chk == chk_b else f"MISMATCH {chk} != {chk_b}"
        for key, rs in ratios.items():
            goals.record(wl, key, statistics.median(rs))
        for key, ts in rows.items():
            med = statistics.median(ts)
            ratio = "1.00" if key == "baseline" else f"{statistics.median(ratios[key]):.2f}"
            shown = checks[key] if key != "baseline" else checks[key][:24]
            print(
                f"| {wl} | {n:,} | {key} | {med:.3f} | {n / med:,.0f} | {ratio} | {shown} |",
                flush=True,
            )
        cpu.cpu_rows(wl, "baseline")


if __name__ == "__main__":
    main()
