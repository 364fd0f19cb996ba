"""A user's script at local_parallelism=2: what crosses the engine's pool processes.

Run as real scripts (``python script.py``, ``python - < script.py``), since what matters
is the user's ``__main__``: pool processes never import it, so a script needs no main
guard, and its classes, lambdas and stage state still cross the pool.
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


#: No main guard: the top level runs once, in the script's process, or the test fails. The
#: engine's pool processes (client.run, jobs at p=1 and p=2) and an isolation="process"
#: job's child all start from it.
UNGUARDED = """
import os
import sys
import time
from dataclasses import dataclass

from headrace import Client
from headrace.jet.job import JobConfig, JobStatus, ProcessingGuarantee
from headrace.jet.pipeline import Pipeline, StreamSource

db, side_effect, pars = sys.argv[1], sys.argv[2], [int(p) for p in sys.argv[3].split(",")]
with open(side_effect, "a") as out:
    out.write(f"top level ran in {os.getpid()}\\n")


@dataclass
class Point:
    x: int


@dataclass
class Hit:
    key: int
    seen: int
    x: int


class Tally:
    \"\"\"A stage's state: it crosses processes in snapshots, and is restored after a suspend.\"\"\"

    def __init__(self):
        self.seen = 0

    def add(self, pt):
        self.seen += 1
        return Hit(pt.x % 3, self.seen, pt.x)


def wait_for(predicate, what):
    deadline = time.monotonic() + 120
    while not predicate():
        if time.monotonic() > deadline:
            raise SystemExit(f"timed out waiting for {what}")
        time.sleep(0.05)


client = Client(store=f"sqlite:///{db}")
p = Pipeline.create()
(p.read_from(Pipeline.items(list(range(500))))
    .map(lambda i: Point(i)).rebalance().map(lambda pt: Point(pt.x * 2))
    .write_to(Pipeline.to_list("points")))
client.run(p, local_parallelism=2)
print("run", sorted(pt.x for pt in client.get_list("points")) == list(range(0, 1000, 2)))

jet = client.get_jet()
for par in pars:
    stream = client.get_stream(f"in-{par}", partitions=2)
    stream.publish_all(range(300))
    q = Pipeline.create()
    (q.read_from(StreamSource(f"in-{par}")).map(lambda i: Point(i))
        .group_by(lambda pt: pt.x % 3).map_stateful(Tally, lambda t, pt: t.add(pt))
        .write_to(Pipeline.to_list(f"hits-{par}")))
    config = JobConfig(
        name=f"tally-{par}", local_parallelism=par,
        processing_guarantee=ProcessingGuarantee.EXACTLY_ONCE, snapshot_interval_ms=100,
    )
    job = jet.submit(q, config)
    wait_for(lambda: job.get_metrics().received_count >= 300, "the first half read")
    job.suspend()
    wait_for(lambda: job.get_status() is JobStatus.SUSPENDED, "suspended")
    stream.publish_all(range(300, 600))
    job.resume()
    stream.close()
    job.join(timeout=120)
    hits = client.get_list(f"hits-{par}")
    xs = sorted(h.x for h in hits)
    # Exactly once, with the Tallies restored from the snapshot the suspend took: each
    # key's counts are 1..n, every item once.
    seen = {k: sorted(h.seen for h in hits if h.key == k) for k in range(3)}
    counted = all(seen[k] == list(range(1, 201)) for k in range(3))
    print(f"job p={par}", xs == list(range(600)) and counted)


@client.job_type("script.isolated", isolation="process")
def isolated(ctx, params):
    return {"pid": os.getpid(), "doubled": Point(params["x"]).x * 2}


done = client.jobs.wait(client.jobs.schedule("script.isolated", {"x": 21}).job_id, timeout=120)
print("isolated", done.result == {"pid": done.result["pid"], "doubled": 42}
      and done.result["pid"] != os.getpid())
client.close()
"""


def _run_unguarded(tmp_path: Path, pars: str, stdin: bool) -> tuple[list[str], list[str]]:
    script = tmp_path / "unguarded.py"
    script.write_text(textwrap.dedent(UNGUARDED))
    side_effect = tmp_path / "side-effect.txt"
    args = [str(tmp_path / "u.db"), str(side_effect), pars]
    if stdin:
        with script.open() as source:
            done = subprocess.run(
                [sys.executable, "-", *args], stdin=source, capture_output=True, text=True,
                timeout=300, cwd=tmp_path,
            )  # fmt: skip
    else:
        done = subprocess.run(
            [sys.executable, str(script), *args], capture_output=True, text=True, timeout=300,
            cwd=tmp_path,
        )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout.splitlines(), side_effect.read_text().splitlines()


def test_a_script_without_main_guard_runs_its_top_level_once(tmp_path: Path) -> None:
    lines, side_effects = _run_unguarded(tmp_path, "1,2", stdin=False)
    assert lines == ["run True", "job p=1 True", "job p=2 True", "isolated True"], lines
    assert len(side_effects) == 1, side_effects


def test_a_script_from_stdin_runs_at_parallelism_2(tmp_path: Path) -> None:
    lines, side_effects = _run_unguarded(tmp_path, "2", stdin=True)
    assert lines == ["run True", "job p=2 True", "isolated True"], lines
    assert len(side_effects) == 1, side_effects
