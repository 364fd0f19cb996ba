"""PostgreSQL wakes idle workers itself: every INSERT into jobs notifies their channel."""

from __future__ import annotations

import psycopg
import pytest
import sqlalchemy

from headrace import Client, defaults


@pytest.mark.parametrize("store_factory", ["postgresql"], indirect=True)
def test_scheduling_notifies_the_workers_channel(store_url: str) -> None:
    dsn = sqlalchemy.make_url(store_url).set(drivername="postgresql").render_as_string(False)
    with psycopg.connect(dsn, autocommit=True) as listener:
        listener.execute(f"LISTEN {defaults.NOTIFY_CHANNEL}")
        with Client(store_url, run_workers=False) as client:

            @client.job_type("notify.me", queue="maintenance")
            def job(ctx: object, params: object) -> None:
                return None

            for schedule in (
                lambda: client.jobs.schedule("notify.me", {}),
                lambda: client.jobs.schedule_many("notify.me", [{}, {}, {}]),
            ):
                schedule()
                got = list(listener.notifies(timeout=10, stop_after=1))
                assert [n.channel for n in got] == [defaults.NOTIFY_CHANNEL]
