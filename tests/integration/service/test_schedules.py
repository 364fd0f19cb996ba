"""Schedules through both clients: define, list, pause, resume, delete, firings, errors,
tenancy, and a one-second cron whose ticks start runs the workers run."""

from __future__ import annotations

import time
import uuid
from typing import Any

import pytest

from headrace import errors
from headrace.jet.pipeline import Pipeline
from headrace.model.schedules import Action, Misfire, Outcome
from headrace.model.status import Status


def echo_job(client: Any, name: str = "scheduled") -> str:
    @client.job_type("tests.sched.echo", params={"type": "object"})
    def echo(ctx: Any, params: Any) -> Any:
        return params

    return str(client.jobs.create(name, type="tests.sched.echo", params={"n": 1}).job_id)


def wait_for(predicate: Any, what: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        time.sleep(0.05)


def test_create_list_get_pause_resume_delete(client: Any) -> None:
    job_id = echo_job(client)
    made = client.schedules.create(
        job_id, "30 2 * * 1", timezone="Europe/Paris", misfire="run_all", description="weekly"
    )
    assert (made.job_id, made.cron, made.timezone) == (job_id, "30 2 * * 1", "Europe/Paris")
    assert (made.action, made.misfire) == (Action.START, Misfire.RUN_ALL)
    assert not made.paused and made.next_fire_ms is not None and made.description == "weekly"
    other = client.schedules.create(job_id, "0 * * * *", action="stop", paused=True)
    assert other.paused and other.next_fire_ms is None
    assert client.schedules.get(made.schedule_id) == made
    listed = client.schedules.list(job_id)
    assert [s.schedule_id for s in listed] == [made.schedule_id, other.schedule_id]
    assert listed.total == 2
    second = client.schedules.list(page=2, limit=1)
    assert [s.schedule_id for s in second] == [other.schedule_id] and second.total == 2
    paused = client.schedules.pause(made.schedule_id)
    assert paused.paused and paused.next_fire_ms is None
    resumed = client.schedules.resume(made.schedule_id)
    assert not resumed.paused and resumed.next_fire_ms == made.next_fire_ms
    assert client.schedules.firings(made.schedule_id).total == 0
    client.schedules.delete(other.schedule_id)
    with pytest.raises(errors.NotFound):
        client.schedules.get(other.schedule_id)
    with pytest.raises(errors.NotFound):
        client.schedules.delete(other.schedule_id)
    assert [s.schedule_id for s in client.schedules.list()] == [made.schedule_id]


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"cron": "61 * * * *"}, "cron"),
        ({"cron": "* * * * * * *"}, "cron"),
        ({"timezone": "Europe/Atlantis"}, "timezone"),
        ({"action": "restart"}, "action"),
        ({"misfire": "later"}, "misfire"),
    ],
)
def test_bad_input_names_the_field_and_stores_nothing(
    client: Any, changes: dict[str, Any], field: str
) -> None:
    job_id = echo_job(client)
    with pytest.raises(errors.InvalidInput) as bad:
        client.schedules.create(job_id, **{"cron": "0 * * * *", **changes})
    assert bad.value.field == field
    assert client.schedules.list().total == 0


def test_unknown_job_and_schedule_and_upgrade_of_a_task_job(client: Any) -> None:
    with pytest.raises(errors.NotFound):
        client.schedules.create(str(uuid.uuid4()), "0 * * * *")
    with pytest.raises(errors.NotFound):
        client.schedules.get(str(uuid.uuid4()))
    for call in (client.schedules.get, client.schedules.pause, client.schedules.firings):
        with pytest.raises(errors.InvalidInput) as malformed:
            call("not-a-uuid")
        assert malformed.value.field == "schedule_id"
    job_id = echo_job(client)
    with pytest.raises(errors.InvalidInput) as bad:
        client.schedules.create(job_id, "0 * * * *", action="upgrade")
    assert bad.value.field == "action"
    client.get_list("nums").extend([1, 2])
    p = Pipeline.create()
    p.read_from(Pipeline.from_list("nums")).write_to(Pipeline.to_list("out"))
    client.pipelines.publish(p, "copy")
    piped = client.jobs.create("copying", pipeline="copy")
    made = client.schedules.create(piped.job_id, "0 0 * * *", action="upgrade")
    assert made.action is Action.UPGRADE


def test_another_tenants_schedules_are_not_found(client: Any) -> None:
    job_id = echo_job(client)
    made = client.schedules.create(job_id, "0 * * * *")
    other = client.for_tenant(str(uuid.uuid4()))
    for call in (
        lambda: other.schedules.get(made.schedule_id),
        lambda: other.schedules.pause(made.schedule_id),
        lambda: other.schedules.resume(made.schedule_id),
        lambda: other.schedules.delete(made.schedule_id),
        lambda: other.schedules.firings(made.schedule_id),
        lambda: other.schedules.create(job_id, "0 * * * *"),
        lambda: other.schedules.list(job_id),
    ):
        with pytest.raises(errors.NotFound):
            call()
    assert other.schedules.list().total == 0
    assert client.schedules.get(made.schedule_id) == made


def test_a_one_second_cron_starts_runs_that_the_workers_run(client: Any) -> None:
    job_id = echo_job(client)
    made = client.schedules.create(job_id, "* * * * * *", misfire="run_once")

    def completed_runs() -> int:
        return sum(r.status is Status.COMPLETED for r in client.jobs.runs(job_id))

    wait_for(lambda: completed_runs() >= 2, "two scheduled runs to complete")
    client.schedules.pause(made.schedule_id)  # no tick is claimed after this returns

    def settled() -> bool:
        found = client.schedules.firings(made.schedule_id, limit=1000)
        return all(f.outcome is not Outcome.FIRING for f in found)

    wait_for(settled, "the last claimed firing to record its outcome")
    found = client.schedules.firings(made.schedule_id, limit=1000).items
    assert {f.outcome for f in found} <= {Outcome.FIRED, Outcome.FAILED, Outcome.MISSED}
    # Each run was started by exactly one firing, which names it; no run without one.
    started = sorted(f.run_count for f in found if f.outcome is Outcome.FIRED)
    assert started == list(range(1, len(started) + 1))
    assert client.jobs.get(job_id).run_count == len(started)
