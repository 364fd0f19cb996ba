"""``headrace schedules ls|create|pause|resume|rm|firings`` on a real store."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from cli_support import run

from headrace import Client, JobContext
from headrace.service.ticker import Ticker


@pytest.fixture
def client(store_url: str) -> Iterator[Client]:
    """An embedded client without workers, knowing ``sched.cli``."""
    with Client(store_url, run_workers=False) as c:

        @c.job_type("sched.cli", queue="maintenance")
        def noop(ctx: JobContext, params: object) -> None:
            return None

        yield c


def test_schedules_from_create_to_rm(client: Client, store_url: str) -> None:
    job = client.jobs.create("nightly", type="sched.cli", params={})
    bad = run("schedules", "create", job.job_id, "0 25 * * *", "--store", store_url)
    assert bad.exit_code == 1 and "cron: the hour field is not valid" in bad.stderr
    bad_zone = run("schedules", "create", job.job_id, "0 2 * * *", "--tz", "Nowhere/Land",
                   "--store", store_url)  # fmt: skip
    assert bad_zone.exit_code == 1 and "timezone" in bad_zone.stderr
    assert client.schedules.list().total == 0  # nothing was written
    made = run("schedules", "create", job.job_id[:8], "0 2 * * *", "--tz", "Asia/Tokyo",
               "--misfire", "run_once", "--store", store_url, "--json")  # fmt: skip
    assert made.exit_code == 0, made.stderr
    schedule = json.loads(made.stdout)
    schedule_id = schedule["schedule_id"]
    assert (schedule["job_id"], schedule["misfire"]) == (job.job_id, "run_once")
    listed = run("schedules", "ls", "--store", store_url)
    header = next(line for line in listed.stdout.splitlines() if "CRON" in line)
    for column in ("ID", "JOB", "TIME ZONE", "ACTION", "MISFIRE", "STATE", "NEXT"):
        assert column in header
    assert schedule_id in listed.stdout and "JST" in listed.stdout
    paused = run("schedules", "pause", schedule_id, "--store", store_url, "--json")
    assert json.loads(paused.stdout)["paused"] is True
    assert "paused" in run("schedules", "ls", "--job", job.job_id, "--store", store_url).stdout
    resumed = run("schedules", "resume", schedule_id, "--store", store_url, "--json")
    assert json.loads(resumed.stdout)["next_fire_ms"] == schedule["next_fire_ms"]
    Ticker(client.store, client.registry, "cli-test").tick(schedule["next_fire_ms"])
    fired = run("schedules", "firings", schedule_id, "--store", store_url)
    assert fired.exit_code == 0, fired.stderr
    assert "fired" in fired.stdout and "cli-test" in fired.stdout and "1 of 1" in fired.stdout
    gone = run("schedules", "rm", schedule_id, "--store", store_url)
    assert gone.exit_code == 0 and schedule_id in gone.stdout
    missing = run("schedules", "firings", schedule_id, "--store", store_url)
    assert missing.exit_code == 1 and "schedule" in missing.stderr
