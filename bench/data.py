"""Lists, Maps and Streams against a raw driver loop writing and reading the same rows.

    python bench/data.py [--sizes 10000,100000] [--repeats 3] [--stores sqlite,postgresql]

For each store (a temporary SQLite file; a fresh PostgreSQL database at
``HEADRACE_BENCH_PG``, default ``postgresql://postgres@127.0.0.1:5432``), each size and
each operation, the median of ``--repeats`` runs of:

- Headrace: ``Map.put_all`` / ``to_dict`` (get_all), ``List.add_all`` / iteration,
  ``Stream.publish_all`` / ``read`` of one partition, through the embedded client;
- raw: the same rows (same tables, same pickled bytes, pickling and unpickling
  included) written in one transaction by the bare driver, ``executemany`` on sqlite3
  and ``COPY`` on psycopg, and read back with one ``SELECT``.

Ratio = raw time / Headrace time (1.0: as fast as the driver; goal >= 0.5). Each write
goes to a structure of its own name (nothing to replace), so both sides insert.
The machine is shared: figures are noisy; compare ratios of one run.
"""

from __future__ import annotations

import argparse
import os
import pickle
import sqlite3
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or os.curdir).resolve() != HERE]
sys.path.insert(0, str(HERE.parent))

import psycopg  # noqa: E402

from headrace import Client, defaults  # noqa: E402

GOAL = 0.5
TENANT = defaults.TENANT_ID


class Raw:
    """The bare driver on the store's own tables."""

    def __init__(self, url: str) -> None:
        self.pg = url.startswith("postgresql")
        if self.pg:
            self.conn: Any = psycopg.connect(url.replace("postgresql+psycopg", "postgresql"))
            self.tenant: Any = TENANT
        else:
            self.conn = sqlite3.connect(url.removeprefix("sqlite:///"), isolation_level=None)
            self.tenant = uuid.UUID(TENANT).hex  # how the store keeps a UUID on SQLite

    def write(self, table: str, columns: list[str], rows: list[tuple[Any, ...]]) -> None:
        """Insert ``rows`` in one transaction (COPY on PostgreSQL, executemany on SQLite)."""
        if self.pg:
            with self.conn.transaction(), self.conn.cursor() as cur:
                cols = ", ".join(f'"{c}"' for c in columns)
                with cur.copy(f"COPY {table} ({cols}) FROM STDIN") as copy:
                    for row in rows:
                        copy.write_row(row)
            return
        marks = ", ".join("?" * len(columns))
        cols = ", ".join(f'"{c}"' for c in columns)
        self.conn.execute("BEGIN IMMEDIATE")
        self.conn.executemany(f"INSERT INTO {table} ({cols}) VALUES ({marks})", rows)
        self.conn.execute("COMMIT")

    def read(self, sql: str, name: str) -> list[tuple[Any, ...]]:
        """Every row of ``sql`` (a SELECT taking tenant and name)."""
        if self.pg:
            with self.conn.transaction():
                return list(self.conn.execute(sql.replace("?", "%s"), (self.tenant, name)))
        return list(self.conn.execute(sql, (self.tenant, name)))


def median_time(fn: Callable[[str], Any], repeats: int) -> float:
    times = []
    for _ in range(repeats):
        name = uuid.uuid4().hex
        t0 = time.perf_counter()
        fn(name)
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def measure(url: str, n: int, repeats: int) -> list[tuple[str, float, float]]:
    """(operation, Headrace seconds, raw seconds) for each operation at ``n`` items."""
    client = Client(url, run_workers=False)
    raw = Raw(client.store.url)
    items = list(range(n))
    out = []

    # -- Map put_all / get_all
    def hr_put(name: str) -> None:
        client.get_map(name).put_all({i: i for i in items})

    def raw_put(name: str) -> None:
        rows = [
            (raw.tenant, name, pickle.dumps(i, protocol=5), pickle.dumps(i, protocol=5))
            for i in items
        ]
        raw.write("data_map_entries", ["tenant_id", "name", "key", "value"], rows)

    out.append(("Map put_all", median_time(hr_put, repeats), median_time(raw_put, repeats)))
    client.get_map(f"m-read-{n}").put_all({i: i for i in items})

    def hr_get(_name: str) -> None:
        assert len(client.get_map(f"m-read-{n}").to_dict()) == n

    def raw_get(_name: str) -> None:
        sql = "SELECT key, value FROM data_map_entries WHERE tenant_id = ? AND name = ?"
        got = {pickle.loads(k): pickle.loads(v) for k, v in raw.read(sql, f"m-read-{n}")}
        assert len(got) == n

    out.append(("Map get_all", median_time(hr_get, repeats), median_time(raw_get, repeats)))

    # -- List add_all / iteration
    def hr_add(name: str) -> None:
        client.get_list(name).add_all(items)

    def raw_add(name: str) -> None:
        rows = [(raw.tenant, name, i, pickle.dumps(i, protocol=5)) for i in items]
        raw.write("data_list_items", ["tenant_id", "name", "position", "value"], rows)

    out.append(("List add_all", median_time(hr_add, repeats), median_time(raw_add, repeats)))
    client.get_list(f"l-read-{n}").add_all(items)

    def hr_iter(_name: str) -> None:
        assert sum(1 for _ in client.get_list(f"l-read-{n}")) == n

    def raw_iter(_name: str) -> None:
        sql = ("SELECT value FROM data_list_items WHERE tenant_id = ? AND name = ? "
               "ORDER BY position")  # fmt: skip
        assert sum(1 for (v,) in raw.read(sql, f"l-read-{n}") if pickle.loads(v) is not None) == n

    out.append(("List iterate", median_time(hr_iter, repeats), median_time(raw_iter, repeats)))

    # -- Stream publish_all / read (one partition)
    def hr_pub(name: str) -> None:
        client.get_stream(name, partitions=1).publish_all(items)

    at = int(time.time() * 1000)

    def raw_pub(name: str) -> None:
        rows = [(raw.tenant, name, 0, i, None, pickle.dumps(i, protocol=5), at) for i in items]
        columns = ["tenant_id", "name", "partition", "offset", "key", "value", "at_ms"]
        raw.write("data_stream_entries", columns, rows)

    out.append(("Stream publish_all", median_time(hr_pub, repeats), median_time(raw_pub, repeats)))
    client.get_stream(f"s-read-{n}", partitions=1).publish_all(items)

    def hr_read(_name: str) -> None:
        assert len(client.get_stream(f"s-read-{n}").read(0, 0, n)) == n

    def raw_read(_name: str) -> None:
        sql = ('SELECT "offset", key, value FROM data_stream_entries WHERE tenant_id = ? '
               'AND name = ? AND partition = 0 ORDER BY "offset"')  # fmt: skip
        assert len([pickle.loads(v) for _o, _k, v in raw.read(sql, f"s-read-{n}")]) == n

    out.append(("Stream read", median_time(hr_read, repeats), median_time(raw_read, repeats)))
    client.close()
    raw.conn.close()
    return out


def pg_database() -> tuple[str, Callable[[], None]]:
    base = os.environ.get("HEADRACE_BENCH_PG", "postgresql://postgres@127.0.0.1:5432")
    name = f"bench_data_{os.getpid()}"
    with psycopg.connect(f"{base}/postgres", autocommit=True) as admin:
        admin.execute(f"CREATE DATABASE {name}")

    def drop() -> None:
        with psycopg.connect(f"{base}/postgres", autocommit=True) as admin:
            admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")

    return f"{base}/{name}", drop


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="10000,100000")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--stores", default="sqlite,postgresql")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    print(f"{'store':<11} {'operation':<19} {'items':>7} {'headrace':>9} {'raw':>9} "
          f"{'ratio':>6}  goal")  # fmt: skip
    for store in args.stores.split(","):
        with tempfile.TemporaryDirectory() as tmp:
            if store == "sqlite":
                url, cleanup = f"sqlite:///{tmp}/bench.db", (lambda: None)
            else:
                url, cleanup = pg_database()
            try:
                for n in sizes:
                    for op, hr, rw in measure(url, n, args.repeats):
                        ratio = rw / hr
                        mark = "ok" if ratio >= GOAL else "BELOW"
                        times = f"{hr * 1000:>7.0f}ms {rw * 1000:>7.0f}ms"
                        print(f"{store:<11} {op:<19} {n:>7} {times} {ratio:>6.2f}  >= {GOAL} "
                              f"{mark}", flush=True)  # fmt: skip
            finally:
                cleanup()


if __name__ == "__main__":
    main()
