"""A failing attempt names the user's own code first, by file and line (a real script).

Its error (kept on the job), its failed event and its log line all lead with the
exception and the user's frames, for a pipeline job (p=1 and p=2, where the functions
cross processes pickled) and for a plain job type.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

SCRIPT = """
import json
import sys

from headrace import Client
from headrace.jet.job import JobConfig
from headrace.jet.pipeline import Pipeline


def divide(x):
    return 10 // x


client = Client()
out = {}
for par in (1, 2):
    p = Pipeline.create()
    p.read_from(Pipeline.from_list(f"nums-{par}", [1, 0])).map(divide).write_to(
        Pipeline.to_list(f"out-{par}")
    )
    job = client.get_jet().submit(p, JobConfig(local_parallelism=par))
    try:
        job.join(timeout=120)
    except Exception:
        pass
    out[f"p{par}"] = job.id


@client.job_type("script.fail")
def fail(ctx, params):
    return helper(params)


def helper(params):
    raise ValueError("bad params")


out["task"] = client.jobs.schedule("script.fail", {"a": 1}).job_id
client.jobs.wait(out["task"], timeout=60)
client.close()
print(json.dumps(out))
"""


def test_failing_attempts_lead_with_the_users_file_and_line(tmp_path: Path) -> None:
    script = tmp_path / "failing.py"
    script.write_text(textwrap.dedent(SCRIPT))
    done = subprocess.run(
        [sys.executable, str(script)], capture_output=True, text=True, timeout=300, cwd=tmp_path
    )
    assert done.returncode == 0, done.stderr
    ids = json.loads(done.stdout.splitlines()[-1])
    from headrace import Client

    client = Client(f"sqlite:///{tmp_path}/.headrace/headrace.db", run_workers=False)
    try:
        for key in ("p1", "p2"):
            job = client.jobs.get(ids[key])
            lines = (job.error or "").splitlines()
            assert lines[0] == "ZeroDivisionError: integer division or modulo by zero", lines
            assert lines[1] == f"  at {script}:11 in divide", lines
            assert lines[2].strip() == "return 10 // x", lines
            assert "<dynamic-code>" not in (job.error or "")
            failed = client.jobs.events(job.job_id)[-1]
            assert failed.to_status.value == "failed"
            assert "ZeroDivisionError" in (failed.reason or "")
            assert f"{script}:11" in (failed.reason or "")
            logged = [line for line in client.jobs.logs(job.job_id) if line.level == "error"]
            assert logged and f"at {script}:11 in divide" in logged[0].message
        task = client.jobs.get(ids["task"])
        lines = (task.error or "").splitlines()
        assert lines[:5] == [
            "ValueError: bad params",
            f"  at {script}:35 in helper",
            '      raise ValueError("bad params")',
            f"  at {script}:31 in fail",
            "      return helper(params)",
        ], lines
        assert f"{script}:35" in (client.jobs.events(task.job_id)[-1].reason or "")
    finally:
        client.close()
    # The log line (exception and innermost user frame) reached the script's console too.
    assert f"ValueError: bad params (at {script}:35)" in done.stderr
