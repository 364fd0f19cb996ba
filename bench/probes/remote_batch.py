"""Scheduling many jobs over HTTP: one ``POST /jobs/batch`` against one ``POST /jobs`` a job.

    python bench/probes/remote_batch.py [--store sqlite|postgresql] [--jobs 10000]
        [--batch 1000] [--repeat 3]

Starts ``headrace server --workers 0`` (``bench/api.py``'s server, an API-only node) on
a fresh store with an operator token, then, from this process, through the remote client
(``Client(url)``, one keep-alive connection) and alternating within each repeat:

- one by one: ``--jobs`` calls of ``client.jobs.schedule`` (the baseline: what a remote
  user could do before ``schedule_many`` went over HTTP);
- batched: ``client.jobs.schedule_many`` in requests of ``--batch`` jobs each.

Prints jobs/s of each, every sample, and the ratio of the medians. Run it under
``flock /work/wt/bench.lock``.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))  # bench/ for api.py's server helpers
sys.path.insert(0, str(HERE.parent.parent))  # the repo root for bench.jobs_noop

from bench.jobs_noop import TYPE  # noqa: E402

import api  # noqa: E402
from headrace.client.remote import Client  # noqa: E402
from headrace.service.tokens import TokenService  # noqa: E402
from headrace.store.database import Store  # noqa: E402


def one_by_one(client: Client, n: int) -> float:
    """Jobs/s of ``n`` single schedules."""
    t0 = time.perf_counter()
    for i in range(n):
        client.jobs.schedule(TYPE, {"i": i})
    return n / (time.perf_counter() - t0)


def batched(client: Client, n: int, batch: int) -> float:
    """Jobs/s of ``n`` jobs scheduled ``batch`` a request."""
    t0 = time.perf_counter()
    for start in range(0, n, batch):
        client.jobs.schedule_many(TYPE, [{"i": i} for i in range(start, min(n, start + batch))])
    return n / (time.perf_counter() - t0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--store", default="sqlite")
    parser.add_argument("--jobs", type=int, default=10_000)
    parser.add_argument("--batch", type=int, default=1_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        if args.store == "sqlite":
            store_url, drop = f"sqlite:///{tmp}/bench.db", (lambda: None)
        else:
            store_url, drop = api.fresh_database(args.store)
        store = Store(store_url)
        token, _ = TokenService(store).create("bench", "bench", "operator")
        store.close()
        port = api.free_port()
        server = api.start_server(store_url, port, Path(tmp) / "server.log")
        samples: dict[str, list[float]] = {"one by one": [], "batched": []}
        try:
            with Client(f"http://127.0.0.1:{port}", token=token) as client:
                client.jobs.schedule(TYPE, {})  # the connection and the type warm
                for _ in range(args.repeat):
                    samples["one by one"].append(one_by_one(client, args.jobs))
                    samples["batched"].append(batched(client, args.jobs, args.batch))
        finally:
            api.stop(server)
            drop()
    backend = "postgresql" if store_url.startswith("postgres") else "sqlite"
    print(f"store={backend} jobs={args.jobs} batch={args.batch} repeat={args.repeat}")
    for name, rates in samples.items():
        shown = ", ".join(f"{r:,.0f}" for r in rates)
        print(f"{name:<11} median {statistics.median(rates):>9,.0f} jobs/s  ({shown})")
    ratio = statistics.median(samples["batched"]) / statistics.median(samples["one by one"])
    print(f"batched / one by one: {ratio:.1f}x")


if __name__ == "__main__":
    main()
