"""``headrace submit --no-workers``: a script that only schedules executes nothing itself."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

from headrace import Client

SCRIPT = textwrap.dedent(
    """
    import sys
    from headrace import Client

    client = Client(sys.argv[1])

    @client.job_type("submit.noop")
    def noop(ctx, params):
        return params

    job = client.jobs.schedule("submit.noop", 1)
    # A client that runs workers starts one on its first schedule.
    print("worker" if client._runtime.worker is not None else "no worker")
    client.close()
    """
)


def _submit(tmp_path: Path, *flags: str) -> str:
    script = tmp_path / "schedule_only.py"
    script.write_text(SCRIPT)
    store = f"sqlite:///{tmp_path}/s.db"
    done = subprocess.run(
        [sys.executable, "-m", "headrace", "submit", *flags, str(script), store],
        capture_output=True,
        text=True,
        check=False,
        cwd=tmp_path,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def test_submit_no_workers_keeps_the_script_out_of_executing_jobs(tmp_path: Path) -> None:
    assert _submit(tmp_path, "--no-workers") == "no worker"
    with Client(f"sqlite:///{tmp_path}/s.db", run_workers=False) as client:
        assert [j.status for j in client.jobs.list().items] == ["waiting"]


def test_submit_without_the_flag_runs_workers_in_the_script(tmp_path: Path) -> None:
    assert _submit(tmp_path) == "worker"
