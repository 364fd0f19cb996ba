"""Migrating an empty database to head yields exactly the tables' metadata."""

from __future__ import annotations

import re
import uuid
from typing import Any

import psycopg
import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Connection

from headrace.store import database, tables
from headrace.store.attempts import AttemptRepository
from headrace.store.database import Store
from headrace.store.jobs import JobRepository


def test_head_equals_metadata(store_url: str) -> None:
    store = Store(store_url)
    with store.read() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        assert compare_metadata(context, tables.metadata) == []
    store.migrate()  # a second run is a no-op
    store.close()


def test_head_revision_is_the_scripts_head(store_url: str) -> None:
    # A store at HEAD_REVISION opens without Alembic: a new migration must move it.
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    config = Config()
    config.set_main_option("script_location", str(database.MIGRATIONS))
    assert ScriptDirectory.from_config(config).get_current_head() == database.HEAD_REVISION
    store = Store(store_url)
    assert store.revision() == database.HEAD_REVISION
    store.close()


def test_sqlite_runs_in_wal_mode(tmp_path: object) -> None:
    store = Store(f"sqlite:///{tmp_path}/x.db")
    with store.read() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
    store.close()


def test_partial_index_predicates_match_the_migration_and_the_status_machine() -> None:
    # Alembic does not compare index predicates; the migration and the tables must.
    import importlib

    from headrace.model import status as machine

    lean = importlib.import_module("headrace.store.migrations.versions.0005_lean_job_indexes")
    for name in ("HAS_KEY", "WAITING", "RETRYING"):
        assert getattr(lean, name) == getattr(tables, name), name
    # 0020 wrote HELD's IN list as equalities: the same statuses, in the same order.
    equalities = importlib.import_module(
        "headrace.store.migrations.versions.0020_held_index_as_equalities"
    )
    assert equalities.HELD_BEFORE == lean.HELD
    assert equalities.HELD_NOW == tables.HELD
    listed = [s.strip(" '") for s in lean.HELD.split("(", 1)[1].rstrip(")").split(",")]
    assert [t.split("=")[1].strip(" '") for t in tables.HELD.split(" OR ")] == listed
    named = importlib.import_module("headrace.store.migrations.versions.0007_named_jobs_index")
    assert named.NAMED == tables.NAMED
    held = importlib.import_module("headrace.store.migrations.versions.0014_names_held_by_runs")
    assert held.ACTIVE_NAME == tables.ACTIVE_NAME
    free = {s.strip(" '") for s in tables.ACTIVE_NAME.split("(", 1)[1].rstrip(")").split(",")}
    assert free == {str(s) for s in machine.NAME_FREE}
    held = {t.split("=")[1].strip(" '") for t in tables.HELD.split(" OR ")}
    assert all(t.startswith("status = ") for t in tables.HELD.split(" OR "))
    assert held == {str(s) for s in machine.HELD}
    assert f"status = '{machine.Status.WAITING}'" == tables.WAITING
    assert f"status = '{machine.Status.RETRYING}'" == tables.RETRYING


def test_the_queries_that_run_per_job_use_the_partial_indexes(tmp_path: object) -> None:
    store = Store(f"sqlite:///{tmp_path}/x.db")
    queries = {
        "ix_jobs_claim": "SELECT job_id FROM jobs WHERE queue = 'q' AND status = 'waiting' "
        "AND eta_ms <= 5 ORDER BY eta_ms, scheduled_at_ms",
        "ix_jobs_held": "SELECT job_id FROM jobs WHERE locked_by = 'w' "
        "AND (status = 'locked' OR status = 'running' OR status = 'canceling' "
        "OR status = 'suspending')",
        "ix_jobs_tenant_name": "SELECT job_id FROM jobs WHERE tenant_id = 't' AND name = 'n' "
        "ORDER BY scheduled_at_ms DESC",
    }
    with store.read() as conn:
        for index, query in queries.items():
            plan = conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {query}").all()
            assert index in " ".join(str(r[-1]) for r in plan), (index, plan)
    store.close()


def test_the_insert_trigger_notifies_on_the_workers_channel() -> None:
    import importlib

    from headrace import defaults

    trigger = importlib.import_module("headrace.store.migrations.versions.0006_notify_on_insert")
    assert trigger.CHANNEL == defaults.NOTIFY_CHANNEL


def _generic_plan(conn: Connection, stmt: Any, values: dict[str, Any]) -> str:
    """The plan PostgreSQL's generic plan of prepared ``stmt`` takes, as text."""
    expanded = stmt.compile(dialect=conn.dialect).construct_expanded_state(values)
    order: list[str] = []

    def number(m: re.Match[str]) -> str:
        if m.group(1) not in order:
            order.append(m.group(1))
        return f"${order.index(m.group(1)) + 1}"

    sql = re.sub(r"%\((\w+)\)s", number, expanded.statement)
    args = ", ".join(
        psycopg.sql.Literal(expanded.parameters[name]).as_string(None) for name in order
    )
    raw = conn.connection.driver_connection
    assert raw is not None
    raw.execute("SET plan_cache_mode = force_generic_plan")
    raw.execute(f"PREPARE q AS {sql}")
    try:
        return "\n".join(str(r[0]) for r in raw.execute(f"EXPLAIN EXECUTE q({args})"))
    finally:
        raw.execute("DEALLOCATE q")


@pytest.mark.parametrize("store_factory", ["postgresql"], indirect=True)
def test_generic_plans_of_the_per_job_queries_use_the_partial_indexes(
    store_url: str,
) -> None:
    # A prepared statement may run on its generic plan, where a status bound as a
    # parameter could not use an index whose predicate names it: the claim then scanned
    # every job of its type each round.
    store = Store(store_url)
    repo = AttemptRepository(store, str(uuid.uuid4()))
    claim = repo.claim_statement("q", ("t1", "t2"))
    with store.write() as conn:
        now = {"p_at": 5, "p_lease_until": 9, "p_limit": 3, "p_reason": "r"}
        assert "ix_jobs_claim" in _generic_plan(conn, claim, now)
        assert "ix_jobs_held" in _generic_plan(conn, repo.held_query(), {})
        assert "ix_jobs_retrying" in _generic_plan(
            conn, repo.maintenance.release_statement(), {"p_at": 5}
        )
        # A named job's schedule checks the name is free among active jobs.
        named = JobRepository.active_named_query(str(uuid.uuid4()), "nightly")
        assert "ux_jobs_active_name" in _generic_plan(conn, named, {})
        # Finding a job by name looks among ended jobs too.
        found = JobRepository.find_named_query(str(uuid.uuid4()), "nightly")
        assert "ix_jobs_tenant_name" in _generic_plan(conn, found, {})
    store.close()


@pytest.mark.parametrize("store_factory", ["postgresql"], indirect=True)
def test_generic_plans_of_the_claim_find_the_chosen_jobs_by_key_in_a_large_table(
    store_url: str,
) -> None:
    # With the limit a parameter, the generic plan takes the chosen jobs for a tenth of
    # the table; written as ``IN (chosen)``, the UPDATE then hash-joined them against a
    # sequential scan of ``jobs``, once statistics said the table was large: every round
    # read every job.
    from headrace import Client

    with Client(store_url, run_workers=False) as client:
        client.job_type("plan.t", queue="q")(lambda ctx, params: None)
        client.jobs.schedule_many("plan.t", [{}] * 3000)
    store = Store(store_url)
    with store.write() as conn:
        conn.exec_driver_sql("ANALYZE jobs")
    repo = AttemptRepository(store, str(uuid.uuid4()))
    now = {"p_at": 5, "p_lease_until": 9, "p_limit": 3, "p_reason": "r"}
    with store.write() as conn:
        for stmt in (
            repo.claim_statement("q", ("plan.t",)),
            repo.rounds.statement(None, "q", ("plan.t",)),
        ):
            plan = _generic_plan(conn, stmt, now)
            assert "Seq Scan on jobs" not in plan, plan
            assert "ix_jobs_claim" in plan and "jobs_pkey" in plan, plan
    store.close()
