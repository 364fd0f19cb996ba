"""A user's script at local_parallelism=2: what crosses the engine's pool processes.

Run as real scripts (``python script.py``), since what matters is the user's ``__main__``.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

SCRIPT = """
import threading
from dataclasses import dataclass

from headrace import Client
from headrace.jet.pipeline import Pipeline


@dataclass
class Point:
    x: int


if __name__ == "__main__":
    client = Client(store="sqlite:///{db}")
    p = Pipeline.create()
    (p.read_from(Pipeline.items(list(range(500))))
        .map(lambda i: Point(i)).rebalance().map(lambda pt: Point(pt.x * 2))
        .write_to(Pipeline.to_list("points")))
    client.run(p, local_parallelism=2)
    print("points", sorted(pt.x for pt in client.get_list("points")) == list(range(0, 1000, 2)))
    bad = Pipeline.create()
    bad.read_from(Pipeline.items(list(range(10)))).map(lambda i: threading.Lock()).write_to(
        Pipeline.to_list("locks")
    )
    try:
        client.run(bad, local_parallelism=2)
        print("unpicklable: no error")
    except Exception as exc:
        print("unpicklable:", type(exc).__name__, exc)
    client.close()
"""


def test_main_classes_cross_the_pool_and_unpicklable_output_fails_the_run(
    tmp_path: Path,
) -> None:
    script = tmp_path / "points.py"
    script.write_text(textwrap.dedent(SCRIPT).replace("{db}", str(tmp_path / "s.db")))
    done = subprocess.run(
        [sys.executable, str(script)], capture_output=True, text=True, timeout=180, cwd=tmp_path
    )
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert "points True" in lines, done.stdout + done.stderr
    # Output that cannot leave a pool process fails the run, naming why; it is not dropped.
    failure = [line for line in lines if line.startswith("unpicklable:")]
    assert failure and "pickle" in failure[0] and "no error" not in failure[0], done.stdout
