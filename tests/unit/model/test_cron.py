"""Cron expressions in a time zone (cronsim underneath), and the ticker's misfire plan."""

from __future__ import annotations

import zoneinfo
from datetime import datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from headrace import errors
from headrace.model import cron
from headrace.model.schedules import Action, Misfire, Schedule
from headrace.service.ticker import Planned, plan

PARIS = zoneinfo.ZoneInfo("Europe/Paris")
HOUR = 3_600_000
EXPRESSIONS = [
    "* * * * *",
    "*/7 * * * *",
    "0 9 * * 1-5",
    "15 */2 1,15 * *",
    "*/5 * * * * *",
    "0 0 L * *",
]


def ms(year: int, month: int, day: int, hour: int, minute: int) -> int:
    return int(datetime(year, month, day, hour, minute, tzinfo=PARIS).timestamp() * 1000)


def local(at_ms: int) -> str:
    return str(datetime.fromtimestamp(at_ms / 1000, PARIS))


def test_a_daily_tick_in_the_spring_gap_fires_once_after_it() -> None:
    daily = cron.parse("30 2 * * *", "Europe/Paris")
    ticks = daily.ticks_after(ms(2026, 3, 28, 12, 0))
    assert [local(next(ticks)) for _ in range(2)] == [
        "2026-03-29 03:00:00+02:00",  # 02:30 does not exist that night
        "2026-03-30 02:30:00+02:00",
    ]


def test_a_daily_tick_in_the_repeated_autumn_hour_fires_once() -> None:
    daily = cron.parse("30 2 * * *", "Europe/Paris")
    ticks = daily.ticks_after(ms(2026, 10, 24, 12, 0))
    assert [local(next(ticks)) for _ in range(2)] == [
        "2026-10-25 02:30:00+02:00",
        "2026-10-26 02:30:00+01:00",
    ]


@given(
    expression=st.sampled_from(EXPRESSIONS),
    zone=st.sampled_from(["UTC", "Europe/Paris", "America/New_York", "Asia/Kolkata"]),
    at=st.integers(min_value=0, max_value=4_000_000_000_000),
)
def test_ticks_grow_and_the_latest_tick_is_consistent(expression: str, zone: str, at: int) -> None:
    parsed = cron.parse(expression, zone)
    first = parsed.next_after(at)
    assert first > at
    assert parsed.latest_at(first) == first
    assert parsed.latest_at(first - 1) <= at
    second = parsed.next_after(first)
    assert second > first and parsed.latest_at(second - 1) == first


@pytest.mark.parametrize(
    ("expression", "zone", "field", "says"),
    [
        ("61 * * * *", "UTC", "cron", "minute"),
        ("* 24 * * *", "UTC", "cron", "hour"),
        ("* * 0 * *", "UTC", "cron", "day-of-month"),
        ("* * * 13 *", "UTC", "cron", "month"),
        ("* * * * 8", "UTC", "cron", "day-of-week"),
        ("* * * *", "UTC", "cron", "5 fields"),
        ("", "UTC", "cron", "cron expression"),
        ("* * * * *", "Europe/Nowhere", "timezone", "IANA"),
        ("* * * * *", "../../etc/passwd", "timezone", "IANA"),
    ],
)
def test_a_bad_expression_or_zone_names_the_field(
    expression: str, zone: str, field: str, says: str
) -> None:
    with pytest.raises(errors.InvalidInput) as bad:
        cron.parse(expression, zone)
    assert bad.value.field == field and says in str(bad.value)


def schedule(misfire: Misfire, cursor: int) -> Schedule:
    return Schedule("s", "j", "0 * * * *", "UTC", Action.START, misfire, False, cursor, "",
                    "u", 0, 0)  # fmt: skip


@pytest.mark.parametrize(
    ("misfire", "late_ms", "expected"),
    [
        # On time (within the grace): each policy fires the one due tick.
        (Misfire.IGNORE, 5_000, [Planned(0, True, 0)]),
        (Misfire.RUN_ONCE, 5_000, [Planned(0, True, 0)]),
        (Misfire.RUN_ALL, 5_000, [Planned(0, True, 0)]),
        # Three ticks due (0, 1h, 2h), the latest late by ten minutes.
        (Misfire.IGNORE, 2 * HOUR + 600_000, [Planned(2 * HOUR, False, 3)]),
        (Misfire.RUN_ONCE, 2 * HOUR + 600_000, [Planned(2 * HOUR, True, 2)]),
        (
            Misfire.RUN_ALL,
            2 * HOUR + 600_000,
            [Planned(0, True, 0), Planned(HOUR, True, 0), Planned(2 * HOUR, True, 0)],
        ),
        # Three ticks due, the latest on time: ignore fires it, records the two missed.
        (Misfire.IGNORE, 2 * HOUR + 5_000, [Planned(HOUR, False, 2), Planned(2 * HOUR, True, 0)]),
    ],
)
def test_the_plan_of_each_misfire_policy(
    misfire: Misfire, late_ms: int, expected: list[Planned]
) -> None:
    planned, following = plan(schedule(misfire, 0), late_ms, grace_ms=60_000)
    assert planned == expected
    assert following == expected[-1].fire_ms + HOUR
