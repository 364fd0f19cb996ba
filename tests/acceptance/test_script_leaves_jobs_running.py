"""Two scripts one after another in one folder: a streaming job the first leaves running.

The first script ends with the job running: it says so as it exits, naming the job. The
second script's ``Client()`` does not take that job (its workers take only their own
process's jobs), so its own work runs; ``Client(resume_jobs=True)`` takes it back.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

FIRST = """
import time
from headrace import Client
from headrace.jet.job import JobConfig, JobStatus
from headrace.jet.pipeline import Pipeline, StreamSource

client = Client()
p = Pipeline.create()
p.read_from(StreamSource("events")).write_to(Pipeline.to_list("seen"))
job = client.get_jet().submit(p, JobConfig(name="left-running"))
while job.get_status() is not JobStatus.RUNNING:
    time.sleep(0.02)
print("running", job.id)
"""

SECOND = """
import time
from headrace import Client
from headrace.jet.job import JobStatus
from headrace.jet.pipeline import Pipeline

client = Client()
jet = client.get_jet()
old = jet.get_job_by_name("left-running")
record = client.jobs.get(old.id)
print("listed", [(j.name, j.status.value) for j in client.jobs.list(limit=100).items])
print("origin", record.origin is not None and record.origin != client.jobs.origin)
p = Pipeline.create()
p.read_from(Pipeline.from_list("numbers", [1, 2, 3])).map(lambda x: x * 2).write_to(
    Pipeline.to_list("doubled")
)
mine = jet.submit(p)
mine.join(timeout=60)
time.sleep(1.0)  # ample time for this script's worker to (wrongly) claim the old job
print("mine", sorted(client.get_list("doubled")))
print("old", client.jobs.get(old.id).status.value)
print("reason", "takes only its own process's jobs" in old.get_status_reason())
resumer = Client(resume_jobs=True)
resumer.start_workers()
deadline = time.monotonic() + 60
while old.get_status() is not JobStatus.RUNNING and time.monotonic() < deadline:
    time.sleep(0.02)
print("resumed", old.get_status() is JobStatus.RUNNING)
old.cancel()
"""


def run(tmp_path: Path, name: str, source: str) -> subprocess.CompletedProcess[str]:
    script = tmp_path / name
    script.write_text(textwrap.dedent(source))
    return subprocess.run(
        [sys.executable, str(script)], capture_output=True, text=True, timeout=180, cwd=tmp_path
    )


def test_a_job_left_running_is_announced_and_not_taken_by_the_next_script(
    tmp_path: Path,
) -> None:
    first = run(tmp_path, "first.py", FIRST)
    assert first.returncode == 0, first.stderr
    job_id = first.stdout.split()[1]
    assert "1 job(s) still running as this process ends" in first.stderr, first.stderr
    assert f"left-running  {job_id}" in first.stderr, first.stderr

    second = run(tmp_path, "second.py", SECOND)
    assert second.returncode == 0, second.stdout + second.stderr
    lines = second.stdout.splitlines()
    assert "('left-running', 'waiting')" in lines[0], lines  # listed with its name
    assert lines[1:] == [
        "origin True",
        "mine [2, 4, 6]",
        "old waiting",
        "reason True",
        "resumed True",
    ], lines
