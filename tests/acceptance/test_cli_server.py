"""The CLI as a subprocess against one real ``headrace server`` (started once here).

The server imports the README's example module (``headrace.examples.jobs``) and
``cli_jobs``, which declares job groups with ``headrace.job_group``. Its ``/docs`` must
work without the internet: every asset comes from the server itself.
"""

from __future__ import annotations

import json
import os
import pty
import re
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from test_server_process import env, free_port, headrace, start, stop

pytestmark = pytest.mark.slow

UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


@dataclass
class Served:
    url: str
    token: str
    store: str

    def cli(self, *args: str) -> tuple[int, str, str]:
        done = headrace(*args, HEADRACE_SERVER=self.url, HEADRACE_TOKEN=self.token)
        return done.returncode, done.stdout, done.stderr


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    folder = tmp_path_factory.mktemp("cli-server")
    store = f"sqlite:///{folder}/cli.db"
    made = headrace("tokens", "create", "--store", store, "--tenant", "acme",
                    "--user", "ops", "--role", "operator")  # fmt: skip
    assert made.returncode == 0, made.stderr
    port = free_port()
    proc = start(store, port, folder / "server.log",
                 "--import", "headrace.examples.jobs", "--import", "cli_jobs")  # fmt: skip
    try:
        yield Served(f"http://127.0.0.1:{port}", made.stdout.split()[-1], store)
    finally:
        assert stop(proc) == 0, (folder / "server.log").read_text()


def test_docs_are_served_from_the_package_with_no_outside_url(served: Served) -> None:
    page = httpx.get(f"{served.url}/docs", timeout=10)
    assert page.status_code == 200
    html = page.text
    assets = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert "/static/swagger/swagger-ui-bundle.js" in assets
    assert "/static/swagger/swagger-ui.css" in assets
    # Nothing the browser would fetch from elsewhere: no absolute URL at all.
    assert "http://" not in html and "https://" not in html and "//cdn" not in html
    assert '"validatorUrl": null' in html
    for asset in assets:
        got = httpx.get(f"{served.url}{asset}", timeout=10)
        assert got.status_code == 200 and len(got.content) > 500, asset
    assert "SwaggerUIBundle" in httpx.get(f"{served.url}/static/swagger/swagger-ui-bundle.js").text
    assert httpx.get(f"{served.url}/openapi.json").json()["info"]["title"] == "Headrace"
    version = (Path(__file__).parents[2] / "src/headrace/api/static/swagger/VERSION").read_text()
    assert "swagger-ui-dist" in version and "Apache-2.0" in version


def test_an_imported_module_declares_job_groups_publicly(served: Served) -> None:
    code, out, err = served.cli("job-groups", "show", "cliops", "--json")
    assert code == 0, err
    assert json.loads(out) == {
        "name": "cliops",
        "queue_name": "download",
        "description": "CLI acceptance jobs",
    }
    code, out, err = served.cli("job-groups", "show", "lonely", "--json")
    assert code == 0 and json.loads(out)["queue_name"] == "maintenance", err
    code, out, _ = served.cli("job-types", "show", "cliops.fail", "--json")
    assert json.loads(out)["queue"] == "download"  # inherited from its group
    code, out, _ = served.cli("job-groups", "ls")
    assert "examples" in out and "Jobs of the README" in out


def test_the_readme_example_runs_and_its_ids_are_accepted_back(served: Served) -> None:
    params = '{"a": 1, "b": 2}'
    code, out, err = served.cli(
        "jobs", "schedule", "examples.add", "--params", params, "--wait", "--timeout", "30",
        "--json",
    )  # fmt: skip
    assert code == 0, err
    job = json.loads(out)
    assert job["status"] == "completed" and job["result"] == {"sum": 3.0}
    code, table, _ = served.cli("jobs", "ls", "--type", "examples.add")
    row = next(line for line in table.splitlines() if "examples.add" in line)
    shown_id = UUID.search(row)
    assert shown_id is not None and shown_id.group() == job["job_id"]
    for given in (shown_id.group(), shown_id.group()[:-6]):
        code, out, err = served.cli("jobs", "show", given, "--json")
        assert code == 0 and json.loads(out)["job_id"] == job["job_id"], err
    code, _, err = served.cli("jobs", "show", "ffff")  # ids made now start with 0
    assert code == 1 and "not found" in err


def test_retry_over_the_server_runs_a_failed_job_again(served: Served) -> None:
    code, out, _ = served.cli("jobs", "schedule", "cliops.fail", "--wait", "--timeout", "30")
    assert code == 1 and " failed: " in out
    job_id = out.split()[0]
    code, out, err = served.cli("jobs", "retry", job_id[:24])
    assert code == 0 and out.split() == [job_id, "waiting"], err
    code, out, _ = served.cli("jobs", "wait", job_id, "--timeout", "30", "--json")
    again = json.loads(out)
    assert code == 1 and again["status"] == "failed" and again["run_count"] == 2
    code, out, _ = served.cli("jobs", "events", job_id, "--json")
    steps = [(e["from_status"], e["to_status"]) for e in json.loads(out)]
    assert steps.count(("failed", "waiting")) == 1


def test_queues_workers_and_purge_over_the_server(served: Served) -> None:
    for _ in range(2):
        assert served.cli("jobs", "schedule", "parked.idle")[0] == 0
    code, out, err = served.cli("queues", "--json")
    assert code == 0, err
    queues = {q["name"]: q for q in json.loads(out)}
    assert queues["parked"]["capacity"] == 0 and queues["parked"]["waiting"] == 2
    assert queues["parked"]["oldest_waiting_ms"] is not None
    assert queues["maintenance"]["capacity"] >= 1
    code, table, _ = served.cli("queues")
    assert "OLDEST WAITING" in table and "parked" in table
    code, out, _ = served.cli("workers")
    assert "HEARTBEAT" in out and "yes" in out
    code, out, err = served.cli("queues", "purge", "parked", "--yes")
    assert code == 0 and "canceled 2 waiting job(s) of queue parked" in out, err
    code, out, _ = served.cli("jobs", "ls", "--type", "parked.idle", "--json")
    assert {j["status"] for j in json.loads(out)["items"]} == {"canceled"}


def test_pipeline_snapshot_commands_over_the_server(served: Served) -> None:
    code, out, err = served.cli("pipelines", "list-snapshots", "--json")
    assert code == 0 and json.loads(out) == [], err
    code, _, err = served.cli("pipelines", "delete-snapshot", "nope")
    assert code == 1 and "not found" in err
    code, out, err = served.cli("pipelines", "list-jobs", "--all")
    assert code == 0 and "0 pipeline jobs" in out, err


def test_version_and_the_demo_prints_ids_the_cli_accepts(tmp_path: Path) -> None:
    version = headrace("--version")
    assert version.returncode == 0 and re.fullmatch(r"headrace \S+\n", version.stdout)

    def here(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "headrace", *args], cwd=tmp_path,
                              env=env(), capture_output=True, text=True, timeout=120)  # fmt: skip

    demo = here("demo", "--jobs", "2")
    assert demo.returncode == 0, demo.stderr
    ids = UUID.findall(demo.stdout)
    assert len(set(ids)) == 2
    for job_id in set(ids):
        shown = here("jobs", "show", job_id, "--json")
        assert shown.returncode == 0 and json.loads(shown.stdout)["status"] == "completed"


def on_a_terminal(*args: str, **extra: str) -> tuple[int, str, str]:
    """Run ``headrace ARGS`` with stderr on a pseudo-terminal: (exit code, stdout, terminal)."""
    leader, follower = pty.openpty()
    proc = subprocess.Popen(
        [sys.executable, "-m", "headrace", *args],
        env={**env(**extra), "COLUMNS": "100", "TERM": "xterm"},
        stdout=subprocess.PIPE, stderr=follower, text=True,
    )  # fmt: skip
    os.close(follower)
    seen = b""
    while True:
        try:
            chunk = os.read(leader, 4096)
        except OSError:  # the terminal closed: the process has ended
            break
        if not chunk:
            break
        seen += chunk
    os.close(leader)
    out, _ = proc.communicate(timeout=60)
    return proc.returncode, out, seen.decode(errors="replace")


def test_waiting_shows_a_progress_bar_on_a_terminal(served: Served) -> None:
    code, out, terminal = on_a_terminal(
        "jobs", "schedule", "examples.count", "--params", '{"to": 20, "pause_sec": 0.05}',
        "--wait", "--timeout", "30", HEADRACE_SERVER=served.url, HEADRACE_TOKEN=served.token,
    )  # fmt: skip
    assert code == 0 and out.split()[1] == "completed", terminal
    assert "examples.count" in terminal and "━" in terminal and "%" in terminal
    # Piped (no terminal), the same command prints no bar.
    quick = '{"to": 2, "pause_sec": 0}'
    code, out, err = served.cli(
        "jobs", "schedule", "examples.count", "--params", quick, "--wait", "--timeout", "30"
    )  # fmt: skip
    assert code == 0 and "━" not in err


def test_opening_a_new_store_says_so_on_a_terminal(tmp_path: Path) -> None:
    code, out, terminal = on_a_terminal("jobs", "ls", "--store", f"sqlite:///{tmp_path}/new.db")
    assert code == 0 and "no jobs" in out
    assert "opening the store (creating its tables if new)" in terminal


SUBMITTED = """
from headrace import Client
from headrace.jet.job import JobConfig
from headrace.jet.pipeline import Pipeline

p = Pipeline.create()
p.read_from(Pipeline.items([1, 2, 3])).map(lambda x: x * 2).write_to(Pipeline.to_list("doubled"))
Client().get_jet().submit(p, JobConfig(name="submitted-by-file"))  # no join: --wait waits
"""


def test_submit_wait_waits_for_the_jobs_the_file_submitted(served: Served, tmp_path: Path) -> None:
    script = tmp_path / "doubler.py"
    script.write_text(SUBMITTED)
    code, out, err = served.cli("submit", str(script), "--wait", "--timeout", "60")
    assert code == 0, err
    lines = [line.split() for line in out.splitlines()]
    assert [line[1:] for line in lines] == [["submitted-by-file", "completed"]]
    code, out, _ = served.cli("jobs", "show", lines[0][0], "--json")
    assert json.loads(out)["name"] == "submitted-by-file"
    # Run again: only the new job is waited for, not the first one.
    code, out, err = served.cli("submit", str(script), "--wait", "--timeout", "60")
    assert code == 0 and len(out.splitlines()) == 1 and lines[0][0] not in out, err
