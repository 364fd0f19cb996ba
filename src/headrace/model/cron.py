"""Cron expressions in a time zone: parse once, then walk the ticks as epoch milliseconds.

The cron library is cronsim: maintained (releases through 2026), typed, no dependencies,
one small module. It is the evaluator healthchecks.io runs, follows Debian cron's rules
(day-of-month/day-of-week OR, ``L``, ``#``), fires a daily tick that falls in a
daylight-saving gap once after it and one in a repeated hour once (tests/unit/model/
test_cron.py), walks backwards as well as forwards (so the latest due tick of a long
outage costs one step, not one per missed tick), and its errors name the field that does
not parse. croniter, the other candidate, is larger and was not needed for any of this.
"""

from __future__ import annotations

import zoneinfo
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime

from cronsim import CronSim, CronSimError

from headrace import errors

#: Longest cron expression and time zone name stored.
MAX_EXPRESSION = 255
MAX_TIMEZONE = 64
FIELDS = "minute hour day-of-month month day-of-week"


@dataclass(frozen=True, slots=True)
class Cron:
    """A parsed cron expression (5 fields; or 6 with a leading seconds field) in a zone."""

    expression: str
    timezone: str

    def ticks_after(self, after_ms: int) -> Iterator[int]:
        """The ticks strictly after ``after_ms``, oldest first, as epoch milliseconds."""
        start = datetime.fromtimestamp(after_ms / 1000, self._zone())
        for tick in CronSim(self.expression, start):
            yield int(tick.timestamp() * 1000)

    def next_after(self, after_ms: int) -> int:
        """The first tick strictly after ``after_ms``."""
        return next(self.ticks_after(after_ms))

    def latest_at(self, at_ms: int) -> int:
        """The latest tick at or before ``at_ms``."""
        # cronsim walks back from a whole second; one millisecond on makes ``at_ms`` count.
        start = datetime.fromtimestamp((at_ms + 1) / 1000, self._zone())
        previous = CronSim(self.expression, start, reverse=True)
        return int(next(previous).timestamp() * 1000)

    def _zone(self) -> zoneinfo.ZoneInfo:
        return zoneinfo.ZoneInfo(self.timezone)


def parse(expression: object, timezone: object = "UTC") -> Cron:
    """Check a cron expression and an IANA time zone name.

    Raises:
        InvalidInput: naming ``cron`` (and the cron field that is wrong) or ``timezone``.
    """
    if not isinstance(timezone, str) or not 0 < len(timezone) <= MAX_TIMEZONE:
        msg = f"must be an IANA time zone name such as 'Europe/Paris', got {timezone!r}"
        raise errors.InvalidInput("timezone", msg)
    try:
        zone = zoneinfo.ZoneInfo(timezone)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError, OSError):
        msg = f"unknown IANA time zone {timezone!r} (e.g. 'UTC', 'Europe/Paris')"
        raise errors.InvalidInput("timezone", msg) from None
    if not isinstance(expression, str) or not 0 < len(expression) <= MAX_EXPRESSION:
        msg = f"must be a cron expression ({FIELDS}), got {expression!r}"
        raise errors.InvalidInput("cron", msg)
    text = " ".join(expression.split())
    try:
        next(CronSim(text, datetime.now(zone)))
    except CronSimError as exc:
        reason = str(exc)
        if reason == "Wrong number of fields":
            reason = f"needs 5 fields ({FIELDS}), or 6 with a leading seconds field"
        elif reason.startswith("Bad "):
            reason = f"the {reason.removeprefix('Bad ')} field is not valid"
        raise errors.InvalidInput("cron", f"{reason} in {expression!r}") from None
    except StopIteration:
        msg = f"{expression!r} never fires"
        raise errors.InvalidInput("cron", msg) from None
    return Cron(text, timezone)
