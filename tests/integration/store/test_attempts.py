"""Claims, leases, fencing and the reaper, straight against the store on both databases."""

from __future__ import annotations

import threading
import uuid

import pytest
import sqlalchemy

from headrace import Client, defaults
from headrace.model.status import Status
from headrace.model.writes import AttemptWrite
from headrace.store import tables
from headrace.store.attempts import AttemptRepository
from headrace.store.dialects import sqlite_driver
from headrace.store.jobs import JobRepository

S = Status


def schedule(client: Client, n: int, type_id: str = "st.noop", **options: object) -> list[str]:
    client.job_type(type_id, queue="maintenance", max_retries=2)(lambda ctx, p: None)
    return [client.jobs.schedule(type_id, i, **options).job_id for i in range(n)]  # type: ignore[arg-type]


def worker(client: Client) -> AttemptRepository:
    return AttemptRepository(client.store, str(uuid.uuid4()))


def test_claim_takes_at_most_the_limit_of_known_types_whose_eta_came(store_url: str) -> None:
    client = Client(store_url, run_workers=False)
    ready = schedule(client, 5)
    schedule(client, 2, delay_sec=3600)
    schedule(client, 3, type_id="st.other")
    a = worker(client)
    got = a.claim("maintenance", ["st.noop"], 3, 30)
    assert len(got) == 3 and {c.job_id for c in got} <= set(ready)
    assert all(c.attempt == 1 for c in got)
    rest = a.claim("maintenance", ["st.noop"], 10, 30)
    assert len(rest) == 2
    assert a.claim("maintenance", ["st.noop"], 10, 30) == []
    assert a.claim("compute", ["st.noop", "st.other"], 10, 30) == []
    client.close()


def test_concurrent_claims_never_share_a_job(store_url: str) -> None:
    client = Client(store_url, run_workers=False)
    ids = schedule(client, 200)
    claimed: list[list[str]] = [[] for _ in range(4)]

    def drain(slot: int) -> None:
        repo = worker(client)
        while batch := repo.claim("maintenance", ["st.noop"], 7, 30):
            claimed[slot] += [c.job_id for c in batch]

    threads = [threading.Thread(target=drain, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    every = [j for part in claimed for j in part]
    assert sorted(every) == sorted(ids)
    client.close()


def test_a_write_of_a_lost_attempt_is_refused(store_url: str) -> None:
    client = Client(store_url, run_workers=False)
    (job_id,) = schedule(client, 1)
    a, b = worker(client), worker(client)
    (first,) = a.claim("maintenance", ["st.noop"], 1, 30)
    assert a.apply([AttemptWrite(job_id, first.tenant_id, 1, (S.LOCKED, S.RUNNING))]) == []
    a.heartbeat(-1, [job_id])  # A's lease is now in the past, as if it had stopped heartbeating
    assert b.maintain() == 1
    reaped = client.jobs.get(job_id)
    assert reaped.status is S.WAITING and reaped.locked_by is None
    assert reaped.retries == 0 and reaped.lease_losses == 1  # a lost lease is no retry
    (second,) = b.claim("maintenance", ["st.noop"], 1, 30)
    assert second.attempt == 2
    b_done = AttemptWrite(
        job_id, second.tenant_id, 2, (S.LOCKED, S.RUNNING, S.COMPLETED), {"result": '"b"'}
    )
    assert b.apply([b_done]) == []
    late = AttemptWrite(job_id, first.tenant_id, 1, (S.RUNNING, S.COMPLETED), {"result": '"a"'})
    progress = AttemptWrite(job_id, first.tenant_id, 1, (), {"progress": 0.5})
    assert a.apply([late, progress]) == [late, progress]
    # Even a write that claims B's attempt number is refused: it is not locked by A.
    forged = AttemptWrite(job_id, first.tenant_id, 2, (S.COMPLETED, S.FAILED), {"error": "x"})
    assert a.apply([forged]) == [forged]
    job = client.jobs.get(job_id)
    assert job.status is S.COMPLETED and job.result == "b" and job.progress == 0.0
    completions = [e for e in client.jobs.events(job_id) if e.to_status is S.COMPLETED]
    assert len(completions) == 1 and completions[0].attempt == 2
    client.close()


def test_reaper_fails_a_job_whose_attempts_are_used_up(store_url: str) -> None:
    client = Client(store_url, run_workers=False)
    (job_id,) = schedule(client, 1, max_retries=0)
    for lost in range(1, defaults.LEASE_LOSSES_ALLOWED + 2):
        a = worker(client)
        assert len(a.claim("maintenance", ["st.noop"], 1, 30)) == 1
        a.heartbeat(-1, [job_id])
        assert a.maintain() == 1
        job = client.jobs.get(job_id)
        assert job.lease_losses == lost and job.retries == 0
        if lost <= defaults.LEASE_LOSSES_ALLOWED:
            assert job.status is S.WAITING  # a crashed worker is not the job's failure
    assert job.status is S.FAILED and "lease expired" in (job.error or "")
    client.close()


def test_log_lines_of_a_lost_attempt_are_refused(store_url: str) -> None:
    client = Client(store_url, run_workers=False)
    (job_id,) = schedule(client, 1)
    a, b = worker(client), worker(client)
    (first,) = a.claim("maintenance", ["st.noop"], 1, 30)
    a.apply([AttemptWrite(job_id, first.tenant_id, 1, (S.LOCKED, S.RUNNING))])

    def line(attempt: int, message: str) -> dict[str, object]:
        return {
            "job_id": job_id,
            "tenant_id": first.tenant_id,
            "at_ms": 1,
            "level": "info",
            "message": message,
            "attempt": attempt,
        }

    assert a.apply([], [line(1, "held")]) == []
    a.heartbeat(-1, [job_id])
    assert b.maintain() == 1
    a.apply([], [line(1, "after the lease was lost")])
    assert len(b.claim("maintenance", ["st.noop"], 1, 30)) == 1
    b.apply([], [line(2, "the new attempt")])
    a.apply([], [line(1, "while another attempt runs"), line(2, "forged by the old worker")])
    assert [(x.attempt, x.message) for x in client.jobs.logs(job_id)] == [
        (1, "held"),
        (2, "the new attempt"),
    ]
    client.close()


def test_a_job_taken_back_keeps_its_place_in_the_queue(store_url: str) -> None:
    client = Client(store_url, run_workers=False)
    (first,) = schedule(client, 1, max_retries=0)
    a = worker(client)
    assert [c.job_id for c in a.claim("maintenance", ["st.noop"], 1, 30)] == [first]
    later = schedule(client, 3)
    a.heartbeat(-1, [first])
    assert a.maintain() == 1
    b = worker(client)
    assert [c.job_id for c in b.claim("maintenance", ["st.noop"], 1, 30)] == [first]
    assert sorted(c.job_id for c in b.claim("maintenance", ["st.noop"], 3, 30)) == sorted(later)
    client.close()


def test_reaper_finishes_cancel_and_suspend_requests_of_dead_workers(store_url: str) -> None:
    client = Client(store_url, run_workers=False)
    client.job_type("st.susp", queue="maintenance", suspendable=True)(lambda ctx, p: None)
    ids = [client.jobs.schedule("st.susp").job_id for _ in range(2)]
    a = worker(client)
    claimed = a.claim("maintenance", ["st.susp"], 2, 30)
    a.apply(
        [AttemptWrite(c.job_id, c.tenant_id, c.attempt, (S.LOCKED, S.RUNNING)) for c in claimed]
    )
    client.jobs.cancel(ids[0])
    client.jobs.suspend(ids[1])
    a.heartbeat(-1, ids)
    assert a.maintain() == 2
    assert client.jobs.get(ids[0]).status is S.CANCELED
    assert client.jobs.get(ids[1]).status is S.SUSPENDED
    client.close()


def test_the_control_poll_reads_status_and_requests_in_one_query(store_url: str) -> None:
    client = Client(store_url, run_workers=False)
    ids = schedule(client, 4)
    a = worker(client)
    claimed = {c.job_id: c for c in a.claim("maintenance", ["st.noop"], 3, 30)}
    running = [c for c in claimed.values() if c.job_id != ids[0]]
    a.apply(
        [AttemptWrite(c.job_id, c.tenant_id, c.attempt, (S.LOCKED, S.RUNNING)) for c in running]
    )
    tenant = next(iter(claimed.values())).tenant_id
    repo = JobRepository(client.store)
    repo.set_control(tenant, running[0].job_id, lambda job, c: {**c, "restart": True})
    client.jobs.cancel(running[1].job_id)
    statements: list[str] = []
    listen = sqlalchemy.event.listens_for(client.store.engine, "before_cursor_execute")
    listen(lambda conn, cursor, sql, *rest: statements.append(sql))
    got = a.holdings()
    assert [s for s in statements if s != "BEGIN"] == [statements[-1]]
    assert statements[-1].lstrip().startswith("SELECT")
    assert set(got) == set(claimed)  # the fourth job is not this worker's
    for job_id, c in claimed.items():
        assert got[job_id][0] == c.attempt
    assert got[running[0].job_id][1:] == (S.RUNNING, {"restart": True})
    assert got[running[1].job_id][1:] == (S.CANCELING, None)
    untouched = next(j for j in claimed if j not in (running[0].job_id, running[1].job_id))
    assert got[untouched][1:] == (S.LOCKED, None)
    assert a.held() == {k: v[:2] for k, v in got.items()}
    client.close()


def held_term() -> str:
    """``ix_jobs_held``'s predicate as a query on ``jobs`` states it: one term, qualified."""
    return "(" + tables.HELD.replace("status", "jobs.status") + ")"


@pytest.mark.parametrize("store_factory", ["sqlite"], indirect=True)
def test_the_control_poll_reads_the_held_jobs_index_on_sqlite(store_url: str) -> None:
    # SQLite takes a partial index only for a term identical to its predicate, the
    # equalities' order included; in another order (a set's, which changes with the process's
    # string hashing) the poll scanned every job, twice every quarter second.
    client = Client(store_url, run_workers=False)
    sql = str(worker(client).held_query().compile(dialect=client.store.engine.dialect))
    assert held_term() in sql
    with client.store.read() as conn:
        plan = " ".join(
            str(r[-1]) for r in conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {sql}", ("x",))
        )
    assert "ix_jobs_held" in plan and "SCAN" not in plan
    client.close()


@pytest.mark.parametrize("store_factory", ["sqlite"], indirect=True)
def test_a_workers_held_jobs_at_close_read_the_held_jobs_index_on_sqlite(store_url: str) -> None:
    # What a closing client asks (``JobRepository.held_by``): with its statuses bound as
    # parameters SQLite could not match the partial index and scanned every job.
    client = Client(store_url, run_workers=False)
    (job_id,) = schedule(client, 1)
    a = worker(client)
    a.claim("maintenance", ["st.noop"], 1, 0.001)
    query = JobRepository.held_by_query(a.worker_id)
    sql = str(query.compile(dialect=client.store.engine.dialect))
    assert held_term() in sql
    with client.store.read() as conn:
        plan = " ".join(
            str(r[-1]) for r in conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {sql}", ("x",))
        )
    assert "ix_jobs_held" in plan and "SCAN" not in plan
    assert [j.job_id for j in JobRepository(client.store).held_by(a.worker_id)] == [job_id]
    client.close()


def test_a_hold_the_worker_no_longer_runs_lapses(store_url: str) -> None:
    client = Client(store_url, run_workers=False)
    kept, dropped = schedule(client, 2)
    a = worker(client)
    a.claim("maintenance", ["st.noop"], 2, 0.001)
    a.heartbeat(60, [kept])
    assert a.maintain() == 1
    assert client.jobs.get(kept).status is S.LOCKED
    assert client.jobs.get(dropped).status is S.WAITING
    client.close()


def test_heartbeat_keeps_a_live_lease(store_url: str) -> None:
    client = Client(store_url, run_workers=False)
    (job_id,) = schedule(client, 1)
    a = worker(client)
    a.claim("maintenance", ["st.noop"], 1, 0.001)
    a.heartbeat(60, [job_id])
    assert a.maintain() == 0
    assert client.jobs.get(job_id).status is S.LOCKED
    client.close()


def test_claims_and_fenced_writes_record_one_event_per_step_in_order(store_url: str) -> None:
    """On PostgreSQL the statements insert their own events; on SQLite the round does."""
    client = Client(store_url, run_workers=False)
    ids = schedule(client, 3)
    a, other = worker(client), worker(client)
    claimed = {c.job_id: c for c in a.claim("maintenance", ["st.noop"], 3, 30)}
    assert set(claimed) == set(ids)
    done, failed, stale = (claimed[i] for i in ids)
    refused = a.apply(
        [
            AttemptWrite(
                done.job_id, done.tenant_id, done.attempt, (S.LOCKED, S.RUNNING), {}, "started"
            ),
            AttemptWrite(
                failed.job_id,
                failed.tenant_id,
                failed.attempt,
                (S.LOCKED, S.RUNNING, S.FAILED),
                {"error": "boom"},
                "attempt failed; no retries left",
            ),
            # Fenced out: a stale attempt, and another worker's write.
            AttemptWrite(
                stale.job_id, stale.tenant_id, stale.attempt - 1, (S.LOCKED, S.RUNNING), {}, "x"
            ),
        ]
    )
    assert [w.job_id for w in refused] == [stale.job_id]
    assert other.apply(
        [AttemptWrite(done.job_id, done.tenant_id, done.attempt, (S.RUNNING, S.COMPLETED))]
    )
    assert (
        a.apply(
            [
                AttemptWrite(
                    done.job_id,
                    done.tenant_id,
                    done.attempt,
                    (S.RUNNING, S.COMPLETED),
                    {},
                    "completed",
                )
            ]
        )
        == []
    )

    def steps(job_id: str) -> list[tuple[str | None, str, str | None, int]]:
        return [
            (
                None if e.from_status is None else str(e.from_status),
                str(e.to_status),
                e.reason,
                e.attempt,
            )
            for e in client.jobs.events(job_id)
        ]

    claim = ("waiting", "locked", f"claimed by worker {a.worker_id}", 1)
    assert steps(done.job_id)[1:] == [
        claim,
        ("locked", "running", "started", 1),
        ("running", "completed", "completed", 1),
    ]
    assert steps(failed.job_id)[1:] == [
        claim,
        ("locked", "running", "attempt failed; no retries left", 1),
        ("running", "failed", "attempt failed; no retries left", 1),
    ]
    assert steps(stale.job_id)[1:] == [claim]
    assert client.jobs.get(done.job_id).status is S.COMPLETED
    assert client.jobs.get(failed.job_id).error == "boom"
    client.close()


def test_a_heartbeat_never_waits_on_its_jobs_own_commit(store_url: str) -> None:
    # A snapshot commit holds its job's row (PostgreSQL: the fence's FOR UPDATE; SQLite:
    # the write lock) while it writes. The commit renews the lease itself; a heartbeat
    # must not wait behind it on PostgreSQL, and on SQLite, where every writer waits for
    # the one lock, it reckons the lease from when it got the lock.
    from sqlalchemy import select

    from headrace.model.clock import now_ms
    from headrace.store import tables

    client = Client(store_url, run_workers=False)
    (job_id,) = schedule(client, 1)
    a = worker(client)
    a.claim("maintenance", ["st.noop"], 1, 30)
    beat = threading.Thread(target=a.heartbeat, args=(30, [job_id]))
    with client.store.write() as conn:
        conn.execute(
            select(tables.jobs.c.job_id).where(tables.jobs.c.job_id == job_id).with_for_update()
        )
        beat.start()
        beat.join(10 if client.store.is_postgresql else 1)
        if client.store.is_postgresql:
            assert not beat.is_alive(), "the heartbeat waited for the job's own commit"
        else:
            assert beat.is_alive()  # SQLite: it waits for the write lock
        released = now_ms()
    beat.join(30)
    assert not beat.is_alive()
    with client.store.read() as conn:
        lease = conn.execute(
            select(tables.jobs.c.lease_expires_ms).where(tables.jobs.c.job_id == job_id)
        ).scalar_one()
    if not client.store.is_postgresql:
        assert lease >= released + 30_000, "the lease was reckoned from before the wait"
    client.close()


@pytest.mark.parametrize("store_factory", ["sqlite"], indirect=True)
def test_a_rounds_fenced_write_finds_its_rows_by_key_on_sqlite(store_url: str) -> None:
    # The fence (``locked_by = ? AND status = 'locked'``) implies ``ix_jobs_held``'s
    # predicate once SQLite peeks at the bound status, and the planner then walked every
    # job the worker holds for each written row; the fence is one ``IS 1`` term, which no
    # index serves, so each row is found by its key.
    client = Client(store_url, run_workers=False)
    schedule(client, 3)
    a = worker(client)
    held = a.claim("maintenance", ["st.noop"], 3, 60)
    path = (Status.LOCKED, Status.RUNNING, Status.COMPLETED)
    writes = [
        AttemptWrite(c.job_id, c.tenant_id, c.attempt, path, {"result": None}, "done") for c in held
    ]
    stmt = a._shape_statement(path, ("result",), single=False)
    compiled = sqlite_driver.compile_statement(client.store.engine.dialect, stmt)
    params = compiled.params({"p_at": 1, **a._rows_params(writes, path, ("result",))})
    with client.store.read() as conn:
        plan = " ".join(
            str(r[-1])
            for r in conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {compiled.sql}", tuple(params))
        )
    assert "ix_jobs_held" not in plan and "SCAN jobs" not in plan, plan
    assert "sqlite_autoindex_jobs_1 (job_id=?)" in plan, plan
    assert a.apply(writes) == []
    assert {client.jobs.get(c.job_id).status for c in held} == {Status.COMPLETED}
    client.close()
