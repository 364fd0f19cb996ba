"""Is W1's extra CPU at p=2 the host's? The hand loop alone over all lines, against two
hand loops at once, each over half the lines (the lines split by byte range, as the
engine's file splits are): the pair's CPU over the single's. One-off experiment (stop 26).
"""

from __future__ import annotations

import multiprocessing as mp
import os
import resource
import statistics
import sys
import time

sys.path[:0] = [os.path.join(os.path.dirname(__file__), "../../../.."), os.path.join(os.path.dirname(__file__), "../../../../src")]
from bench.engine import gen_w1, split_words, word_key  # noqa: E402


def loop(path: str, start: int, end: int, out: mp.Queue) -> None:
    t0 = resource.getrusage(resource.RUSAGE_SELF)
    counts: dict[str, int] = {}
    get = counts.get
    with open(path, "rb") as fh:
        fh.seek(start)
        if start:
            fh.readline()
        while fh.tell() <= end:
            raw = fh.readline()
            if not raw:
                break
            for w in split_words(raw.decode()):
                k = word_key(w)
                counts[k] = get(k, 0) + 1
    t1 = resource.getrusage(resource.RUSAGE_SELF)
    out.put((t1.ru_utime + t1.ru_stime) - (t0.ru_utime + t0.ru_stime))


def run(path: str, ranges: list[tuple[int, int]]) -> tuple[float, float]:
    out: mp.Queue = mp.Queue()
    procs = [mp.Process(target=loop, args=(path, a, b, out)) for a, b in ranges]
    w0 = time.perf_counter()
    for p in procs:
        p.start()
    cpu = sum(out.get() for _ in procs)
    for p in procs:
        p.join()
    return cpu, time.perf_counter() - w0


def main() -> None:
    path = gen_w1(2_000_000)
    size = os.path.getsize(path)
    single, pair, walls = [], [], []
    for _ in range(int(sys.argv[1]) if len(sys.argv) > 1 else 5):
        c1, w1 = run(path, [(0, size)])
        c2, w2 = run(path, [(0, size // 2), (size // 2, size)])
        single.append(c1)
        pair.append(c2)
        walls.append(w1 / w2)
        print(f"single {c1:.2f} s CPU ({w1:.2f} s wall); pair {c2:.2f} s CPU ({w2:.2f} s wall): "
              f"CPU ratio {c2 / c1:.3f}, wall speed-up {w1 / w2:.2f}", flush=True)
    ratios = [p / s for p, s in zip(pair, single, strict=True)]
    print(f"median CPU ratio pair/single {statistics.median(ratios):.3f} "
          f"(range {min(ratios):.3f}-{max(ratios):.3f}); median wall speed-up "
          f"{statistics.median(walls):.2f}")


if __name__ == "__main__":
    main()
