"""``headrace jobs``: tables people can read, ids they can paste back, retry, schedule."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator

import pytest
from cli_support import run

from headrace import Client, JobContext
from headrace.model.status import Status

OTHER_TENANT = str(uuid.UUID(int=7))


@pytest.fixture
def client(store_url: str) -> Iterator[Client]:
    """An embedded client whose workers run ``cli.ok`` and ``cli.boom`` jobs."""
    with Client(store_url, lease_sec=3.0) as c:

        @c.job_type("cli.ok", queue="maintenance", max_retries=0)
        def ok(ctx: JobContext, params: dict[str, int]) -> dict[str, int]:
            return {"twice": 2 * params.get("n", 0)}

        @c.job_type("cli.boom", queue="maintenance", max_retries=0)
        def boom(ctx: JobContext, params: object) -> None:
            if not ctx.state.get("fixed") and ctx.params.get("fail", True):
                msg = "boom on purpose"
                raise RuntimeError(msg)

        yield c


def test_ls_prints_a_table_with_header_names_whole_ids_and_ages(
    client: Client, store_url: str
) -> None:
    named = client.jobs.schedule("cli.ok", {"n": 1}, name="nightly-report")
    other = client.jobs.schedule("cli.ok", {"n": 2})
    client.jobs.wait(named.job_id, timeout=30)
    client.jobs.wait(other.job_id, timeout=30)
    out = run("jobs", "ls", "--store", store_url)
    assert out.exit_code == 0, out.stderr
    lines = out.stdout.splitlines()
    header = next(line for line in lines if "ID" in line)
    for column in ("NAME", "TYPE", "STATUS", "PROGRESS", "SCHEDULED", "UPDATED"):
        assert column in header
    row = next(line for line in lines if named.job_id in line)
    assert "nightly-report" in row and "completed" in row and "100%" in row
    assert " ago" in row or "just now" in row
    assert other.job_id in out.stdout
    assert "jobs 1-2 of 2" in out.stdout


def test_ls_json_is_for_scripts(client: Client, store_url: str) -> None:
    job = client.jobs.schedule("cli.ok", {"n": 3}, name="for-a-script")
    client.jobs.wait(job.job_id, timeout=30)
    data = json.loads(run("jobs", "ls", "--store", store_url, "--json").stdout)
    assert data["total"] == 1 and data["items"][0]["job_id"] == job.job_id
    assert data["items"][0]["name"] == "for-a-script"


def test_ids_are_accepted_whole_or_by_a_unique_prefix(client: Client, store_url: str) -> None:
    jobs = [client.jobs.schedule("cli.ok", {"n": n}) for n in range(3)]
    for job in jobs:
        client.jobs.wait(job.job_id, timeout=30)
    target = jobs[1].job_id
    # Ids made in one burst share their leading (time) digits: the shortest unique
    # prefix is found by walking the id until only one job matches.
    digits = target.replace("-", "")
    unique = next(
        digits[:n]
        for n in range(1, 33)
        if sum(j.job_id.replace("-", "").startswith(digits[:n]) for j in jobs) == 1
    )
    for given in (target, target.upper(), unique, target[: len(target) - 4]):
        shown = run("jobs", "show", given, "--store", store_url, "--json")
        assert shown.exit_code == 0, (given, shown.stderr)
        assert json.loads(shown.stdout)["job_id"] == target
    shared = digits[: len(unique) - 1]
    ambiguous = run("jobs", "show", shared, "--store", store_url)
    assert ambiguous.exit_code == 1 and "several jobs" in ambiguous.stderr
    bad = run("jobs", "show", "not-hex!", "--store", store_url)
    assert bad.exit_code == 1 and "first hex digits" in bad.stderr
    missing = run("jobs", "show", "ffffffff", "--store", store_url)
    assert missing.exit_code == 1 and "not found" in missing.stderr


def test_a_prefix_finds_only_the_tenants_own_jobs(client: Client, store_url: str) -> None:
    theirs = client.for_tenant(OTHER_TENANT).jobs.schedule("cli.ok", {"n": 1})
    assert client.jobs.list().total == 0
    with pytest.raises(Exception, match="not found"):
        client.jobs.resolve(theirs.job_id[:20])
    assert client.for_tenant(OTHER_TENANT).jobs.resolve(theirs.job_id[:20]) == theirs.job_id


def test_retry_starts_a_new_run_of_a_failed_job_through_the_status_machine(
    client: Client, store_url: str
) -> None:
    job = client.jobs.schedule("cli.boom", {"fail": True})
    failed = client.jobs.wait(job.job_id, timeout=30)
    assert failed.status is Status.FAILED and failed.run_count == 1
    out = run("jobs", "retry", job.job_id[:30], "--store", store_url)
    assert out.exit_code == 0, out.stderr
    assert out.stdout.split() == [job.job_id, "waiting"]
    # The worker may take the new run at once: look for the event, not at the last one.
    rerun = [
        e
        for e in client.jobs.events(job.job_id)
        if (e.from_status, e.to_status) == (Status.FAILED, Status.WAITING)
    ]
    assert len(rerun) == 1 and rerun[0].reason == "retried by user (run 2)"
    again = client.jobs.wait(job.job_id, timeout=30)
    assert again.status is Status.FAILED and again.run_count == 2
    assert again.attempt == failed.attempt + 1  # attempts keep counting across runs


def test_requeue_is_retry_and_refuses_a_completed_job_changing_nothing(
    client: Client, store_url: str
) -> None:
    job = client.jobs.schedule("cli.ok", {"n": 1})
    done = client.jobs.wait(job.job_id, timeout=30)
    out = run("jobs", "requeue", job.job_id, "--store", store_url)
    assert out.exit_code == 1 and "only a failed or timeout job gets a new run" in out.stderr
    after = client.jobs.get(job.job_id)
    assert after.status is Status.COMPLETED and after.run_count == 1
    assert len(client.jobs.events(job.job_id)) == len(client.jobs.events(done.job_id))


def test_schedule_wait_runs_a_job_and_reports_how_it_ended(client: Client, store_url: str) -> None:
    client.start_workers()
    out = run("jobs", "schedule", "cli.ok", "--params", '{"n": 21}', "--wait",
              "--timeout", "30", "--store", store_url, "--json")  # fmt: skip
    assert out.exit_code == 0, out.stderr
    assert json.loads(out.stdout)["result"] == {"twice": 42}
    failed = run("jobs", "schedule", "cli.boom", "--wait", "--timeout", "30",
                 "--store", store_url)  # fmt: skip
    assert failed.exit_code == 1 and "failed" in failed.stdout
    bad = run("jobs", "schedule", "cli.ok", "--params", "{nope", "--store", store_url)
    assert bad.exit_code == 2 and "--params" in bad.stderr


def test_version_and_help_showing_defaults() -> None:
    out = run("--version")
    assert out.exit_code == 0 and out.stdout.startswith("headrace ")
    helped = run("jobs", "ls", "--help").stdout
    assert "[default: 20]" in helped and "HEADRACE_SERVER" in helped
    assert "--url" not in helped
    served = run("server", "--help").stdout
    assert "127.0.0.1" in served and "8000" in served
