"""W1's CPU: the hand loop, p=1 in-process, p=1 in a pool worker, p=2 (interleaved, 5 rounds)."""
import sys, statistics
sys.path[:0] = ["/work/main", "/work/main/src"]
from bench.engine import gen_w1, w1_engine, w1_baseline
from bench import engine_cpu as cpu

path = gen_w1(2_000_000)
w1_engine(path, 2); w1_engine(path, 1, "processes")
runs = {"loop": lambda: w1_baseline(path), "p1 in-process": lambda: w1_engine(path, 1),
        "p1 worker process": lambda: w1_engine(path, 1, "processes"), "p2": lambda: w1_engine(path, 2)}
for _ in range(5):
    for name, fn in runs.items():
        cpu.timed(fn, ("W1", name))
cpu.cpu_rows("W1", "loop")
