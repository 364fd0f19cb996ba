"""What a pipeline writes is seen soon, with no logging set up (issue 11, a real script).

``to_logger()`` prints in a script that configured no logging; an EXACTLY_ONCE job with
seed 001's config (a 10 s snapshot interval) has its List output committed within about a
second (``JobConfig.output_interval_ms``), not at the next 10 s snapshot.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from headrace import errors
from headrace.jet.job import JobConfig

SCRIPT = """
import time

from headrace import Client
from headrace.jet.job import JobConfig, JobStatus, ProcessingGuarantee
from headrace.jet.pipeline import Pipeline, StreamSource

client = Client()
pipeline = Pipeline.create()
pipeline.read_from(Pipeline.from_list("pairs", [("a", 1), ("b", 2)])).write_to(
    Pipeline.to_logger()
)
client.run(pipeline)  # in this process
client.get_jet().submit(pipeline).join(timeout=60)  # as a job, on this process's worker

config = JobConfig(
    name="my-processing-job",
    auto_scaling_enabled=True,
    processing_guarantee=ProcessingGuarantee.EXACTLY_ONCE,
    snapshot_interval_millis=10000,
)
streaming = Pipeline.create()
streaming.read_from(StreamSource("events")).write_to(Pipeline.to_list("seen"))
job = client.get_jet().submit(streaming, config)
while job.get_status() is not JobStatus.RUNNING:
    time.sleep(0.02)
time.sleep(0.5)
client.get_stream("events").publish_all(range(5))
published = time.monotonic()
while len(client.get_list("seen")) < 5 and time.monotonic() - published < 9.5:
    time.sleep(0.02)
print("seen", sorted(client.get_list("seen")), round(time.monotonic() - published, 1))
job.cancel()
"""


def test_logger_output_prints_and_exactly_once_output_is_seen_before_the_snapshot(
    tmp_path: Path,
) -> None:
    script = tmp_path / "script.py"
    script.write_text(textwrap.dedent(SCRIPT))
    done = subprocess.run(
        [sys.executable, str(script)], capture_output=True, text=True, timeout=180, cwd=tmp_path
    )
    assert done.returncode == 0, done.stderr
    logged = [line for line in done.stderr.splitlines() if "headrace.pipeline" in line]
    assert sum("('a', 1)" in line for line in logged) == 2, done.stderr  # run, and job
    seen = next(line for line in done.stdout.splitlines() if line.startswith("seen"))
    items, elapsed = seen.removeprefix("seen ").rsplit(" ", 1)
    assert items == "[0, 1, 2, 3, 4]", done.stdout
    # Well under the 10 s snapshot interval (about a second, plus a loaded machine's lag).
    assert float(elapsed) < 9.5, done.stdout


def test_the_output_interval_is_configurable_and_checked() -> None:
    assert JobConfig().output_interval_ms == 1000
    assert JobConfig(output_interval_ms=10_000).output_interval_ms == 10_000
    with pytest.raises(errors.InvalidInput, match="output_interval_ms"):
        JobConfig(output_interval_ms=0)
