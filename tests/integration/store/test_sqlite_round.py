"""SQLite's worker round on the driver connection writes what the SQLAlchemy path writes."""

from __future__ import annotations

import sqlite3
import uuid
from pathlib import Path
from typing import Any

from headrace import Client
from headrace.model.job import Claimed, Job
from headrace.model.status import Status
from headrace.model.writes import AttemptWrite
from headrace.store import claims, sqlite_round
from headrace.store.attempts import AttemptRepository

S = Status
PATH = (S.LOCKED, S.RUNNING, S.COMPLETED)


def stored(path: Path, job_ids: list[str], worker_id: str) -> list[Any]:
    """Each job's row and events as SQLite holds them (with each value's type), minus
    what differs between two workers' runs: ids, times and the worker in the reason."""
    conn = sqlite3.connect(path)
    columns = [c[1] for c in conn.execute("PRAGMA table_info(jobs)")]
    varying = {"job_id", "locked_by", "updated_at_ms", "started_at_ms", "finished_at_ms",
               "lease_expires_ms", "scheduled_at_ms", "eta_ms", "params"}  # fmt: skip
    kept = [c for c in columns if c not in varying]
    out = []
    try:
        for j in job_ids:
            key = j.replace("-", "")
            row = conn.execute(
                f"SELECT {', '.join(kept)}, {', '.join(f'typeof({c})' for c in columns)}"
                " FROM jobs WHERE job_id = ?",
                (key,),
            ).fetchone()
            events = conn.execute(
                "SELECT job_id = ?, tenant_id, from_status, to_status, via, user_id,"
                " replace(reason, ?, 'W'), attempt, typeof(job_id), typeof(tenant_id),"
                " typeof(at_ms), typeof(attempt) FROM job_events WHERE job_id = ?"
                " ORDER BY event_id",
                (key, worker_id, key),
            ).fetchall()
            out.append((row, events))
    finally:
        conn.close()
    return out


def queued(path: Path, params: list[Any]) -> tuple[Client, list[Job]]:
    """A client (no workers) on a new SQLite store at ``path`` with ``sr.noop`` jobs queued."""
    client = Client(f"sqlite:///{path}", run_workers=False)
    client.job_type("sr.noop", queue="maintenance")(lambda ctx, p: None)
    return client, client.jobs.schedule_many("sr.noop", params)


def test_the_driver_round_writes_the_rows_and_events_of_the_sqlalchemy_path(
    tmp_path: Path,
) -> None:
    path = tmp_path / "round.db"
    client, _ = queued(path, [{"i": i} for i in range(4)])
    fast = AttemptRepository(client.store, str(uuid.uuid4()))
    slow = AttemptRepository(client.store, str(uuid.uuid4()))
    # The driver: a round of a claim alone, then of the writes alone.
    refused, mine = fast.pump([], [], [("maintenance", ["sr.noop"], 2)], 30)
    # SQLAlchemy's: ``claim`` and ``apply`` (their own transactions, not ``pump``'s).
    theirs = slow.claim("maintenance", ["sr.noop"], 2, 30)
    assert refused == [] and len(mine) == 2 and len(theirs) == 2

    def fields(c: Claimed) -> tuple[Any, ...]:
        return (len(c.job_id), c.tenant_id, c.type, c.queue, c.attempt, c.state, c.progress,
                c.timeout_sec, c.retries, c.max_retries, c.retry_delay_sec, c.resumed)  # fmt: skip

    assert [fields(c) for c in mine] == [fields(c) for c in theirs]
    assert sorted(c.params["i"] for c in mine + theirs) == [0, 1, 2, 3]

    def done(c: Claimed) -> AttemptWrite:
        values = {"started_at_ms": 5, "progress": 1.0, "result": '"ok"', "error": None}
        return AttemptWrite(c.job_id, c.tenant_id, c.attempt, PATH, values, "completed")

    assert fast.pump([done(c) for c in mine], [], [], 30) == ([], [])
    assert slow.apply([done(c) for c in theirs]) == []
    client.close()
    a = stored(path, [c.job_id for c in mine], fast.worker_id)
    b = stored(path, [c.job_id for c in theirs], slow.worker_id)
    assert a == b
    # One row per write: the end write's path (locked, running, completed) is one row.
    assert [e[2:5] for e in a[0][1]] == [
        (None, "waiting", None), ("waiting", "locked", None), ("locked", "completed", "running")
    ]  # fmt: skip
    assert all(e[0] == 1 for _, events in a for e in events)  # the job's id as stored


def test_a_driver_round_refuses_what_its_fence_refuses_and_logs_nothing_for_it(
    tmp_path: Path,
) -> None:
    client, _ = queued(tmp_path / "fence.db", [{}] * 3)
    a = AttemptRepository(client.store, str(uuid.uuid4()))
    _, held = a.pump([], [], [("maintenance", ["sr.noop"], 3)], 30)
    ok, wrong_attempt, lost = (
        AttemptWrite(c.job_id, c.tenant_id, c.attempt + (i == 1), PATH, {}, "completed")
        for i, c in enumerate(held)
    )
    # The third job was taken back meanwhile (as the reaper does): this worker lost it.
    with client.store.write() as conn:
        conn.exec_driver_sql(
            "UPDATE jobs SET status = 'waiting', locked_by = NULL WHERE job_id = ?",
            (lost.job_id.replace("-", ""),),
        )
    refused, claimed = a.pump([ok, wrong_attempt, lost], [], [("maintenance", ["sr.noop"], 1)], 30)
    assert refused == [wrong_attempt, lost]
    assert [c.job_id for c in claimed] == [lost.job_id] and claimed[0].attempt == 2
    statuses = {j: client.jobs.get(j).status for j in (ok.job_id, wrong_attempt.job_id)}
    assert statuses == {ok.job_id: S.COMPLETED, wrong_attempt.job_id: S.LOCKED}
    assert len(client.jobs.events(ok.job_id)) == 4
    assert len(client.jobs.events(wrong_attempt.job_id)) == 2
    assert [e.to_status for e in client.jobs.events(lost.job_id)] == [
        S.WAITING, S.LOCKED, S.LOCKED
    ]  # fmt: skip
    client.close()


def test_a_large_rounds_events_split_across_statements_keep_each_rows_values_and_order(
    tmp_path: Path,
) -> None:
    # 101 claims and then 101 writes: each group goes in 64 + 32 + 4 + 1 rows.
    path = tmp_path / "large.db"
    client, _ = queued(path, [{"i": i} for i in range(101)])
    a = AttemptRepository(client.store, str(uuid.uuid4()))
    _, held = a.pump([], [], [("maintenance", ["sr.noop"], 101)], 30)
    assert len(held) == 101
    writes = [
        AttemptWrite(c.job_id, c.tenant_id, c.attempt, PATH, {}, f"done {i}")
        for i, c in enumerate(held)
    ]
    assert a.pump(writes, [], [], 30) == ([], [])
    client.close()
    conn = sqlite3.connect(path)
    try:
        found = conn.execute(
            "SELECT job_id, tenant_id, from_status, to_status, user_id, reason, attempt, via "
            "FROM job_events WHERE from_status IS NOT NULL ORDER BY event_id"
        ).fetchall()
    finally:
        conn.close()
    key = {c.job_id: c.job_id.replace("-", "") for c in held}
    tenant = {c.tenant_id.replace("-", "") for c in held}
    assert len(tenant) == 1
    (t,) = tenant
    claimed = [(key[c.job_id], t, "waiting", "locked", None, c.attempt, None) for c in held]
    ended = [
        (key[w.job_id], t, "locked", "completed", None, w.reason, w.attempt, "running")
        for w in writes
    ]
    assert [(r[0], r[1], r[2], r[3], r[4], r[6], r[7]) for r in found[:101]] == claimed
    assert len({r[5] for r in found[:101]}) == 1  # the claim's one reason
    assert found[101:] == ended


def test_the_fused_claim_reader_makes_what_the_generic_read_makes(tmp_path: Path) -> None:
    path = tmp_path / "read.db"
    client, jobs = queued(path, [{"i": i, "s": "é\U0001f600"} for i in range(3)])
    with client.store.write() as conn:  # a resumed job with progress and state
        conn.exec_driver_sql(
            "UPDATE jobs SET resumed = 1, progress = 0.25, state = '{\"k\": [1]}' WHERE job_id = ?",
            (jobs[1].job_id.replace("-", ""),),
        )
    a = AttemptRepository(client.store, str(uuid.uuid4()))
    assert a._driver is not None
    take = a._driver.statement(a.claim_statement("maintenance", ("sr.noop",)))
    params = take.params({"p_at": 2**62, "p_lease_until": 2**62, "p_limit": 3, "p_reason": "r"})
    with client.store.write() as conn:
        raw = conn.connection.driver_connection
        assert raw is not None
        rows = raw.execute(take.sql, params).fetchall()
    assert len(rows) == 3
    fused = sqlite_round.claimed_rows(take, rows)
    assert fused == [claims.claimed_from(take.read(r)) for r in rows]
    resumed = next(c for c in fused if c.job_id == jobs[1].job_id)
    assert (resumed.resumed, resumed.progress, resumed.state) == (True, 0.25, {"k": [1]})
    assert {c.job_id for c in fused} == {j.job_id for j in jobs}
    assert all(c.tenant_id == jobs[0].tenant_id and c.params["s"] == "é\U0001f600" for c in fused)
    client.close()


def test_a_large_rounds_fenced_writes_each_write_their_own_values(tmp_path: Path) -> None:
    # 101 writes of one shape in one round: each row's values go to its own job.
    path = tmp_path / "values.db"
    client, _ = queued(path, [{"i": i} for i in range(101)])
    a = AttemptRepository(client.store, str(uuid.uuid4()))
    _, held = a.pump([], [], [("maintenance", ["sr.noop"], 101)], 30)
    assert len(held) == 101
    writes = [
        AttemptWrite(
            c.job_id,
            c.tenant_id,
            c.attempt,
            PATH,
            {"started_at_ms": 1_000 + i, "progress": i / 100, "result": f'{{"i": {i}}}'},
            "completed",
        )
        for i, c in enumerate(held)
    ]
    # One of them carries a fence that fails: the others still apply, it alone is refused.
    writes[70].attempt += 1
    refused, _ = a.pump(writes, [], [], 30)
    assert refused == [writes[70]]
    for i, c in enumerate(held):
        job = client.jobs.get(c.job_id)
        if i == 70:
            assert job.status == S.LOCKED and job.result is None
            continue
        assert job.status == S.COMPLETED
        assert (job.started_at_ms, job.progress, job.result) == (1_000 + i, i / 100, {"i": i})
    client.close()


def test_a_rounds_events_keep_each_jobs_tenant_and_reason_when_they_differ(
    tmp_path: Path,
) -> None:
    # One round claims two tenants' jobs (their claim events: one reason, two tenants),
    # then ends them with one reason (two tenants) and with two reasons (one tenant): a
    # tenant or reason is bound once for a group only when every row of it has the same.
    path = tmp_path / "tenants.db"
    client, first = queued(path, [{"i": i} for i in range(3)])
    acme = client.for_tenant("acme")
    second = acme.jobs.schedule_many("sr.noop", [{"i": i} for i in range(3, 6)])
    tenant_of = {j.job_id: j.tenant_id for j in first + second}
    assert len(set(tenant_of.values())) == 2
    a = AttemptRepository(client.store, str(uuid.uuid4()))
    _, held = a.pump([], [], [("maintenance", ["sr.noop"], 6)], 30)
    assert sorted(c.job_id for c in held) == sorted(tenant_of)
    mixed = [AttemptWrite(c.job_id, c.tenant_id, c.attempt, PATH, {}, "ok") for c in held]
    assert len({w.tenant_id for w in mixed[:4]}) == 2  # claims come oldest first
    assert a.pump(mixed[:4], [], [], 30) == ([], [])
    reasons = [
        AttemptWrite(c.job_id, c.tenant_id, c.attempt, PATH, {}, f"why {i}")
        for i, c in enumerate(held[4:])
    ]
    assert len({w.tenant_id for w in reasons}) == 1
    assert a.pump(reasons, [], [], 30) == ([], [])
    client.close()
    conn = sqlite3.connect(path)
    try:
        found = conn.execute(
            "SELECT job_id, tenant_id, from_status, to_status, reason, attempt, via "
            "FROM job_events WHERE from_status IS NOT NULL ORDER BY event_id"
        ).fetchall()
    finally:
        conn.close()
    key = {c.job_id.replace("-", ""): c for c in held}
    stored_tenant = {j: t.replace("-", "") for j, t in tenant_of.items()}
    claims_ = [r for r in found if r[3] == "locked"]
    ends = [r for r in found if r[3] == "completed"]
    assert len(claims_) == 6 and len(ends) == 6
    for row in claims_ + ends:
        c = key[row[0]]
        assert row[1] == stored_tenant[c.job_id] and row[5] == c.attempt
    assert len({r[4] for r in claims_}) == 1 and len({r[1] for r in claims_}) == 2
    want = {key[r[0]].job_id: r[4] for r in ends}
    assert want == {
        **{w.job_id: "ok" for w in mixed[:4]},
        **{w.job_id: w.reason for w in reasons},
    }
    assert all(r[6] == "running" for r in ends)
