"""The schedule ticker on both stores, on a clock the test gives it: misfire policies,
pause/resume/delete, and tickers racing for the same ticks."""

from __future__ import annotations

import threading
import zoneinfo
from collections.abc import Iterator
from datetime import datetime
from typing import Any

import pytest

from headrace import Client, defaults, errors
from headrace.model.schedules import Outcome
from headrace.service.ticker import Ticker
from headrace.store import tables
from headrace.store.schedules import ABANDONED, FiringClaims

HOUR = 3_600_000
MINUTE = 60_000


@pytest.fixture
def client(store_url: str) -> Iterator[Client]:
    """An embedded client without workers: nothing fires but the tickers a test runs."""
    c = Client(store_url, run_workers=False)
    c.job_type("sched.echo")(lambda ctx, params: params)
    yield c
    c.close()


def hourly(client: Client, misfire: str, action: str = "start") -> tuple[str, str, int]:
    job = client.jobs.create("nightly", type="sched.echo", params={"n": 1})
    schedule = client.schedules.create(job.job_id, "0 * * * *", misfire=misfire, action=action)
    assert schedule.next_fire_ms is not None
    return job.job_id, schedule.schedule_id, schedule.next_fire_ms


def firings(client: Client, schedule_id: str) -> list[tuple[int, Outcome, int, int | None]]:
    found = client.schedules.firings(schedule_id).items
    return [(f.fire_ms, f.outcome, f.skipped, f.run_count) for f in found]


def test_a_stopped_schedulers_missed_ticks_are_ignored(client: Client) -> None:
    job_id, schedule_id, first = hourly(client, "ignore")
    ticker = Ticker(client.store, client.registry, "holder-a")
    # Four ticks passed (first .. first+3h) and the latest is five minutes late: all missed.
    assert ticker.tick(first + 3 * HOUR + 5 * MINUTE) == 0
    assert firings(client, schedule_id) == [(first + 3 * HOUR, Outcome.MISSED, 4, None)]
    assert client.jobs.get(job_id).run_count == 0
    assert client.schedules.get(schedule_id).next_fire_ms == first + 4 * HOUR
    # A tick handled on time fires; the one missed before it is recorded as missed.
    assert ticker.tick(first + 6 * HOUR + 10_000) == 1
    assert firings(client, schedule_id)[:2] == [
        (first + 6 * HOUR, Outcome.FIRED, 0, 1),
        (first + 5 * HOUR, Outcome.MISSED, 2, None),
    ]
    assert client.jobs.get(job_id).run_count == 1


def test_a_stopped_schedulers_missed_ticks_run_once(client: Client) -> None:
    job_id, schedule_id, first = hourly(client, "run_once")
    ticker = Ticker(client.store, client.registry, "holder-a")
    assert ticker.tick(first + 3 * HOUR + 5 * MINUTE) == 1
    assert firings(client, schedule_id) == [(first + 3 * HOUR, Outcome.FIRED, 3, 1)]
    job = client.jobs.get(job_id)
    assert job.run_count == 1 and job.status.value == "waiting"
    assert ticker.tick(first + 3 * HOUR + 6 * MINUTE) == 0  # nothing new is due
    assert len(firings(client, schedule_id)) == 1


def test_a_stopped_schedulers_missed_ticks_run_all(client: Client) -> None:
    job_id, schedule_id, first = hourly(client, "run_all")
    ticker = Ticker(client.store, client.registry, "holder-a")
    assert ticker.tick(first + 3 * HOUR + 5 * MINUTE) == 4
    found = list(reversed(client.schedules.firings(schedule_id).items))
    assert [f.fire_ms for f in found] == [first + i * HOUR for i in range(4)]
    # The first start opened run 1; no worker ran it, so the next three starts were
    # refused (a job has one active run at a time), and say so.
    assert [f.outcome for f in found] == [Outcome.FIRED] + [Outcome.FAILED] * 3
    assert found[0].run_count == 1
    assert all("run" in (f.error or "") for f in found[1:])
    assert client.jobs.get(job_id).run_count == 1
    assert {f.holder for f in found} == {"holder-a"}


def test_each_tick_fires_once_however_many_tickers_race_for_it(client: Client) -> None:
    job_id, schedule_id, first = hourly(client, "run_all")
    tickers = [Ticker(client.store, client.registry, f"holder-{i}") for i in range(4)]
    start = threading.Barrier(len(tickers))
    fired: list[int] = []
    problems: list[BaseException] = []

    def race(ticker: Ticker) -> None:
        try:
            start.wait()
            fired.append(ticker.tick(first + 5 * HOUR))
        except BaseException as exc:  # reported below, not lost in the thread
            problems.append(exc)

    threads = [threading.Thread(target=race, args=(t,)) for t in tickers]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert problems == []
    found = client.schedules.firings(schedule_id).items
    assert sorted(f.fire_ms for f in found) == [first + i * HOUR for i in range(6)]
    assert sum(fired) == 6  # six ticks, six firings between the four tickers
    started = [f for f in found if f.outcome is Outcome.FIRED]
    assert len(started) == 1 and client.jobs.get(job_id).run_count == 1


def test_pause_resume_and_delete(client: Client) -> None:
    job_id, schedule_id, first = hourly(client, "run_all")
    ticker = Ticker(client.store, client.registry, "holder-a")
    paused = client.schedules.pause(schedule_id)
    assert paused.paused and paused.next_fire_ms is None
    assert ticker.tick(first + 10 * HOUR) == 0
    assert firings(client, schedule_id) == []
    resumed = client.schedules.resume(schedule_id)
    assert not resumed.paused and resumed.next_fire_ms == first  # the next hour from now
    assert ticker.tick(first) == 1
    assert [s.schedule_id for s in client.schedules.list(job_id)] == [schedule_id]
    client.schedules.delete(schedule_id)
    with pytest.raises(errors.NotFound):
        client.schedules.get(schedule_id)
    with pytest.raises(errors.NotFound):
        client.schedules.firings(schedule_id)
    assert client.schedules.list(job_id).total == 0
    assert ticker.tick(first + 2 * HOUR) == 0


def test_upgrade_and_stop_actions_and_the_time_zone(client: Client) -> None:
    job = client.jobs.create("tz", type="sched.echo", params={})
    made = client.schedules.create(job.job_id, "0 9 * * 1-5", timezone="America/New_York")
    assert made.next_fire_ms is not None
    local = datetime.fromtimestamp(made.next_fire_ms / 1000, zoneinfo.ZoneInfo("America/New_York"))
    assert (local.hour, local.minute) == (9, 0) and local.weekday() < 5
    with pytest.raises(errors.InvalidInput) as bad:
        client.schedules.create(job.job_id, "0 * * * *", action="upgrade")
    assert bad.value.field == "action"  # a task job has no pipeline to upgrade
    # Another job: ticking to the next hour also fires ``made`` when 9:00 in New York
    # falls within it (13:00-14:00 UTC on a weekday), which starts ``job``.
    idle = client.jobs.create("tz-idle", type="sched.echo", params={})
    stop = client.schedules.create(idle.job_id, "0 * * * *", action="stop", misfire="run_once")
    assert stop.next_fire_ms is not None
    Ticker(client.store, client.registry, "h").tick(stop.next_fire_ms)
    (firing,) = client.schedules.firings(stop.schedule_id).items
    assert firing.outcome is Outcome.FAILED and "created" in (firing.error or "")


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"cron": "61 * * * *"}, "cron"),
        ({"cron": "* * *"}, "cron"),
        ({"cron": "0 0 30 2 *"}, "cron"),
        ({"timezone": "Mars/Olympus_Mons"}, "timezone"),
        ({"timezone": ""}, "timezone"),
        ({"action": "restart"}, "action"),
        ({"misfire": "sometimes"}, "misfire"),
    ],
)
def test_bad_input_names_the_field_and_stores_nothing(
    client: Client, changes: dict[str, Any], field: str
) -> None:
    job = client.jobs.create("bad", type="sched.echo", params={})
    given: dict[str, Any] = {"cron": "0 * * * *", **changes}
    with pytest.raises(errors.InvalidInput) as bad:
        client.schedules.create(job.job_id, **given)
    assert bad.value.field == field
    assert client.schedules.list().total == 0


def test_a_firing_whose_process_died_is_marked_and_not_fired_again(client: Client) -> None:
    job_id, schedule_id, first = hourly(client, "run_all")
    schedule = client.schedules.get(schedule_id)
    # A process claimed the first tick and died before starting the run.
    dead = FiringClaims(client.store, "dead-process")
    assert dead.claim(client.scope.tenant_id, schedule, first, Outcome.FIRING, 0)
    assert Ticker(client.store, client.registry, "alive").tick(first + HOUR) == 1
    found = {f.fire_ms: f for f in client.schedules.firings(schedule_id)}
    assert sorted(found) == [first, first + HOUR]
    assert found[first].outcome is Outcome.FAILED and found[first].error == ABANDONED
    assert found[first].holder == "dead-process"
    assert (found[first + HOUR].outcome, found[first + HOUR].run_count) == (Outcome.FIRED, 1)
    assert client.jobs.get(job_id).run_count == 1


def test_old_firings_are_forgotten_past_the_newest_kept(
    client: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(defaults, "SCHEDULE_FIRINGS_KEPT", 3)
    _, schedule_id, first = hourly(client, "run_all", action="stop")
    ticker = Ticker(client.store, client.registry, "holder-a")
    assert ticker.tick(first + 4 * HOUR) == 5
    assert ticker.tick(first + 5 * HOUR) == 1  # this round forgets the oldest ones
    kept = client.schedules.firings(schedule_id)
    assert [f.fire_ms for f in kept] == [first + i * HOUR for i in (5, 4, 3)]
    assert kept.total == 3


def test_a_schedule_whose_job_was_deleted_is_paused(client: Client) -> None:
    job_id, schedule_id, first = hourly(client, "run_once")
    client.jobs.delete(job_id)
    Ticker(client.store, client.registry, "holder-a").tick(first)
    (firing,) = client.schedules.firings(schedule_id)
    assert firing.outcome is Outcome.FAILED and "paused" in (firing.error or "")
    assert client.schedules.get(schedule_id).paused


def test_stop_and_upgrade_actions_fire(client: Client) -> None:
    from headrace.jet.pipeline import Pipeline

    def copy(sink: str) -> Pipeline:
        p = Pipeline.create()
        p.read_from(Pipeline.from_list("nums")).write_to(Pipeline.to_list(sink))
        return p

    client.get_list("nums").extend([1, 2])
    client.pipelines.publish(copy("out-1"), "copy")
    job = client.jobs.create("copying", pipeline="copy")
    client.pipelines.publish(copy("out-2"), "copy", "second")
    upgrade = client.schedules.create(job.job_id, "0 * * * *", action="upgrade")
    assert upgrade.next_fire_ms is not None
    ticker = Ticker(client.store, client.registry, "holder-a")
    assert ticker.tick(upgrade.next_fire_ms) == 1
    (upgraded,) = client.schedules.firings(upgrade.schedule_id)
    assert upgraded.outcome is Outcome.FIRED, upgraded.error
    assert client.jobs.get(job.job_id).pipeline_version == 2
    client.schedules.delete(upgrade.schedule_id)
    client.jobs.start(job.job_id)  # no worker runs it: it waits in its queue
    stop = client.schedules.create(job.job_id, "30 * * * *", action="stop")
    assert stop.next_fire_ms is not None
    assert ticker.tick(stop.next_fire_ms) == 1
    (stopped,) = client.schedules.firings(stop.schedule_id)
    assert (stopped.outcome, stopped.run_count) == (Outcome.FIRED, 1), stopped.error
    assert client.jobs.get(job.job_id).status.value == "canceled"


def test_a_round_that_fails_does_not_raise_into_the_keeper(
    client: Client, caplog: pytest.LogCaptureFixture
) -> None:
    _, schedule_id, first = hourly(client, "run_once")
    with client.store.write() as conn:  # a row no release of Headrace would write
        conn.execute(
            tables.schedules.update()
            .where(tables.schedules.c.schedule_id == schedule_id)
            .values(action="explode", next_fire_ms=0)
        )
    ticker = Ticker(client.store, client.registry, "holder-a")
    with pytest.raises(ValueError, match="explode"):
        ticker.tick(first)
    assert ticker() == 0  # as the keeper calls it: logged, not raised
    assert "round failed" in caplog.text
