"""PostgreSQL: a worker's round runs on a session of its own that plans it once (generic plan)."""

from __future__ import annotations

import gc
import re
import time
import uuid
from typing import Any

import psycopg
import pytest
import sqlalchemy

from headrace import Client, errors
from headrace.model.status import Status as S
from headrace.model.writes import AttemptWrite
from headrace.store import pg_round
from headrace.store.attempts import AttemptRepository
from headrace.store.database import Store

PATH = (S.LOCKED, S.RUNNING, S.COMPLETED)
pytestmark = pytest.mark.parametrize("store_factory", ["postgresql"], indirect=True)


def noop_type(client: Client) -> str:
    @client.job_type("ps.noop", queue="maintenance")
    def noop(ctx: object, params: object) -> None:
        return None

    return "ps.noop"


def dsn(store_url: str) -> str:
    return sqlalchemy.make_url(store_url).set(drivername="postgresql").render_as_string(False)


def finished(claimed: list[Any]) -> list[AttemptWrite]:
    return [
        AttemptWrite(c.job_id, c.tenant_id, c.attempt, PATH, {"result": "1"}, "completed")
        for c in claimed
    ]


def test_rounds_of_any_size_are_planned_once_and_find_rows_by_key(store_url: str) -> None:
    """Rounds of one job and of eight share one generic plan: no custom plan, no re-planning.

    PostgreSQL left to choose planned a round of one job again at every execution (its
    custom plan looks cheaper than the generic one, costed for ten): half the backend's
    CPU per round at capacity 1. The generic plan must still look rows up by key, not by
    the worker's entries in ``ix_jobs_held`` (which grow with its history).
    """
    client = Client(store_url, run_workers=False)
    kind = noop_type(client)
    client.jobs.schedule_many(kind, [None] * 3000)
    a = AttemptRepository(client.store, str(uuid.uuid4()))
    held = a.claim("maintenance", [kind], 200, 30)
    assert a.apply(finished(held)) == []  # a history in ix_jobs_held
    with client.store.write() as conn:
        conn.exec_driver_sql("ANALYZE")
    claimed: list[Any] = []
    for size in (1, 1, 8, 1, 2, 8, 1, 8, 1, 1):
        refused, claimed = a.pump(finished(claimed), [], [("maintenance", [kind], size)], 30)
        assert refused == [] and len(claimed) == size
    plans = client.store.prepared_rows(
        "SELECT generic_plans, custom_plans FROM pg_prepared_statements"
        " WHERE statement LIKE 'WITH w_changed%%'",
        {},
    )
    assert len(plans) == 1 and plans[0][0] >= 9 and plans[0][1] == 0, plans
    # The generic plan, as the session plans it, explained on a connection of the test's.
    sql, fixed = a.rounds.sql((PATH, ("result",)), "maintenance", (kind,))
    names: list[str] = []

    def number(m: re.Match[str]) -> str:
        if m.group(1) not in names:
            names.append(m.group(1))
        return f"${names.index(m.group(1)) + 1}"

    prepared = re.sub(r"%\((\w+)\)[sb]", number, sql)
    given = {
        **fixed,
        "p_at": 1,
        "p_lease_until": 2,
        "p_limit": 8,
        "p_reason": "r",
        **a._rows_params(finished(claimed), PATH, ("result",)),
    }
    with psycopg.connect(dsn(store_url), autocommit=True) as conn:
        conn.execute("SET plan_cache_mode = force_generic_plan")
        conn.execute(f"PREPARE round AS {prepared}")
        cur = psycopg.ClientCursor(conn)
        cur.execute(
            f"EXPLAIN EXECUTE round({', '.join(['%s'] * len(names))})",
            [given[n] for n in names],
        )
        plan = "\n".join(str(r[0]) for r in cur.fetchall())
    assert "Index Scan using jobs_pkey on jobs" in plan, plan
    assert "ix_jobs_claim" in plan, plan
    assert "ix_jobs_held" not in plan, plan
    client.close()


def test_a_round_on_a_broken_session_fails_and_the_next_one_reconnects(store_url: str) -> None:
    client = Client(store_url, run_workers=False)
    kind = noop_type(client)
    client.jobs.schedule_many(kind, [None] * 4)
    a = AttemptRepository(client.store, str(uuid.uuid4()))
    _, claimed = a.pump([], [], [("maintenance", [kind], 2)], 30)
    ((pid,),) = client.store.prepared_rows("SELECT pg_backend_pid()", {})
    with psycopg.connect(dsn(store_url), autocommit=True) as admin:
        admin.execute("SELECT pg_terminate_backend(%s)", [pid])
    writes = finished(claimed)
    with pytest.raises(errors.StoreUnavailable):
        a.pump(writes, [], [("maintenance", [kind], 2)], 30)
    # Nothing of the failed round happened; the worker sends its writes again.
    assert all(client.jobs.get(c.job_id).status is S.LOCKED for c in claimed)
    refused, more = a.pump(writes, [], [("maintenance", [kind], 2)], 30)
    assert refused == [] and len(more) == 2
    assert all(client.jobs.get(c.job_id).status is S.COMPLETED for c in claimed)
    ((again,),) = client.store.prepared_rows("SELECT pg_backend_pid()", {})
    assert again != pid
    client.close()


def test_errors_on_the_session_are_the_stores_errors(store_url: str) -> None:
    client = Client(store_url, run_workers=False)
    with pytest.raises(errors.StoreError, match="nope"):
        client.store.prepared_rows("SELECT * FROM nope", {})
    assert client.store.prepared_rows("SELECT %(x)s::int + 1", {"x": 1}) == [(2,)]
    client.close()


def test_a_store_dropped_unclosed_ends_its_prepared_session(store_url: str) -> None:
    store = Store(store_url)
    ((pid,),) = store.prepared_rows("SELECT pg_backend_pid()", {})
    store.engine.dispose()
    del store
    gc.collect()
    with psycopg.connect(dsn(store_url), autocommit=True) as admin:
        deadline = time.monotonic() + 10
        while admin.execute("SELECT 1 FROM pg_stat_activity WHERE pid = %s", [pid]).fetchall():
            assert time.monotonic() < deadline, "the session outlived its store"
            time.sleep(0.05)


def test_the_rounds_rows_parameter_is_the_generic_paths_text(store_url: str) -> None:
    """``pg_round.rows_params`` builds the rows table's JSON straight from the writes:
    the same text, key for key, as the dialect's ``rows_value`` through ``_rows_params``."""
    store = Store(store_url)
    a = AttemptRepository(store, str(uuid.uuid4()))
    values = {"started_at_ms": 5, "progress": 1.0, "state": "{}", "result": "null", "error": None}
    for path, reason in ((PATH, "completed"), ((), None)):
        writes = [
            AttemptWrite(str(uuid.uuid4()), str(uuid.uuid4()), n, path, dict(values), reason)
            for n in (1, 2, 3)
        ]
        names = tuple(values)
        assert pg_round.rows_params(writes, path) == a._rows_params(writes, path, names)
    store.close()
