"""Batched fenced writes, the one-transaction pump, and bulk scheduling, on both databases."""

from __future__ import annotations

import math
import uuid

import pytest
from sqlalchemy import event

from headrace import Client, errors
from headrace.model.status import Status
from headrace.model.writes import AttemptWrite
from headrace.store.attempts import AttemptRepository
from headrace.store.job_rows import BULK_ROWS

S = Status


def noop_type(client: Client, type_id: str = "bw.noop") -> str:
    client.job_type(type_id, queue="maintenance", max_retries=2)(lambda ctx, p: None)
    return type_id


def test_a_batch_applies_each_write_fenced_and_returns_the_refused_in_order(
    store_url: str,
) -> None:
    client = Client(store_url, run_workers=False)
    kind = noop_type(client)
    ids = [j.job_id for j in client.jobs.schedule_many(kind, [{"i": i} for i in range(8)])]
    a = AttemptRepository(client.store, str(uuid.uuid4()))
    other = AttemptRepository(client.store, str(uuid.uuid4()))
    mine = {c.job_id: c for c in a.claim("maintenance", [kind], 6, 30)}
    theirs = {c.job_id: c for c in other.claim("maintenance", [kind], 2, 30)}
    assert len(mine) == 6 and len(theirs) == 2
    t = next(iter(mine.values())).tenant_id
    m = sorted(mine)
    writes = [
        # same shape, different values (one None): one statement
        AttemptWrite(m[0], t, 1, (S.LOCKED, S.RUNNING, S.COMPLETED), {"result": '"r0"'}, "ok"),
        AttemptWrite(m[1], t, 1, (S.LOCKED, S.RUNNING, S.COMPLETED), {"result": None}, "ok"),
        # same shape, but another worker holds the job: refused
        AttemptWrite(
            sorted(theirs)[0], t, 1, (S.LOCKED, S.RUNNING, S.COMPLETED), {"result": '"x"'}
        ),
        # same shape, wrong attempt: refused
        AttemptWrite(m[2], t, 2, (S.LOCKED, S.RUNNING, S.COMPLETED), {"result": '"x"'}),
        # another shape: started, then (a later write of the same job) failed
        AttemptWrite(m[3], t, 1, (S.LOCKED, S.RUNNING), {"started_at_ms": 5}, "started"),
        AttemptWrite(m[3], t, 1, (S.RUNNING, S.FAILED), {"error": "boom"}, "failed"),
        # expects a status the row does not have: refused
        AttemptWrite(m[4], t, 1, (S.RUNNING, S.COMPLETED), {"result": '"x"'}),
        # no status change: progress of a held job
        AttemptWrite(m[5], t, 1, (), {"progress": 0.25, "progress_details": "a quarter"}),
    ]
    refused = a.apply(writes)
    assert refused == [writes[2], writes[3], writes[6]]
    got = {j: client.jobs.get(j) for j in ids}
    assert got[m[0]].status is S.COMPLETED and got[m[0]].result == "r0"
    assert got[m[0]].finished_at_ms is not None and got[m[0]].progress == 0.0
    assert got[m[1]].status is S.COMPLETED and got[m[1]].result is None
    assert got[m[2]].status is S.LOCKED
    assert got[m[3]].status is S.FAILED and got[m[3]].error == "boom"
    assert got[m[3]].started_at_ms == 5
    assert got[m[4]].status is S.LOCKED
    assert got[m[5]].status is S.LOCKED and got[m[5]].progress == 0.25
    assert got[m[5]].progress_details == "a quarter"
    assert got[sorted(theirs)[0]].status is S.LOCKED
    paths = {j: [(e.from_status, e.to_status) for e in client.jobs.events(j)] for j in ids}
    claimed = [(None, S.WAITING), (S.WAITING, S.LOCKED)]
    assert paths[m[0]] == [*claimed, (S.LOCKED, S.RUNNING), (S.RUNNING, S.COMPLETED)]
    assert paths[m[3]] == [*claimed, (S.LOCKED, S.RUNNING), (S.RUNNING, S.FAILED)]
    for j in (m[2], m[4], m[5], sorted(theirs)[0]):
        assert paths[j] == claimed
    client.close()


def test_a_large_batch_is_split_and_still_fenced(store_url: str) -> None:
    client = Client(store_url, run_workers=False)
    kind = noop_type(client)
    client.jobs.schedule_many(kind, [None] * 1200)
    a = AttemptRepository(client.store, str(uuid.uuid4()))
    claimed = a.claim("maintenance", [kind], 1200, 30)
    assert len(claimed) == 1200
    writes = [
        AttemptWrite(
            c.job_id,
            c.tenant_id,
            c.attempt + (i % 100 == 0),  # every 100th names an attempt it does not hold
            (S.LOCKED, S.RUNNING, S.COMPLETED),
            {"result": str(i)},
        )
        for i, c in enumerate(claimed)
    ]
    refused = a.apply(writes)
    assert refused == writes[::100]
    page = client.jobs.list(status="completed", limit=1)
    assert page.total == 1200 - 12
    job = client.jobs.get(claimed[7].job_id)
    assert job.result == 7
    client.close()


def test_pump_writes_and_claims_in_one_transaction(store_url: str) -> None:
    client = Client(store_url, run_workers=False)
    kind = noop_type(client)
    ids = [j.job_id for j in client.jobs.schedule_many(kind, [None] * 5)]
    a = AttemptRepository(client.store, str(uuid.uuid4()))
    (first,) = a.claim("maintenance", [kind], 1, 30)
    done = AttemptWrite(
        first.job_id, first.tenant_id, 1, (S.LOCKED, S.RUNNING, S.COMPLETED), {"result": "1"}
    )
    late = AttemptWrite(first.job_id, first.tenant_id, 1, (S.RUNNING, S.FAILED), {"error": "x"})
    refused, claimed = a.pump([done, late], [], [("maintenance", [kind], 3)], 30)
    assert refused == [late]
    assert len(claimed) == 3 and first.job_id not in {c.job_id for c in claimed}
    assert {c.job_id for c in claimed} < set(ids)
    assert client.jobs.get(first.job_id).status is S.COMPLETED
    client.close()


def test_a_round_of_one_write_shape_and_one_claim(store_url: str) -> None:
    """Writes of one shape and a claim: on PostgreSQL one statement, both stores the same."""
    client = Client(store_url, run_workers=False)
    kind = noop_type(client)
    client.jobs.schedule_many(kind, [{"i": i} for i in range(7)])
    a = AttemptRepository(client.store, str(uuid.uuid4()))
    other = AttemptRepository(client.store, str(uuid.uuid4()))
    held = a.claim("maintenance", [kind], 3, 30)
    (theirs,) = other.claim("maintenance", [kind], 1, 30)
    path = (S.LOCKED, S.RUNNING, S.COMPLETED)
    writes = [
        AttemptWrite(c.job_id, c.tenant_id, c.attempt, path, {"result": f'"r{i}"'}, "completed")
        for i, c in enumerate(held)
    ]
    # The same shape on a job another worker holds: its fence refuses it.
    stale = AttemptWrite(
        theirs.job_id, theirs.tenant_id, theirs.attempt, path, {"result": '"x"'}, "completed"
    )
    statements: list[str] = []

    def count(conn: object, cursor: object, statement: str, *args: object) -> None:
        statements.append(statement)

    def on_session() -> int:
        session = client.store._prepared
        return session.executed if session is not None else 0

    event.listen(client.store.engine, "before_cursor_execute", count)
    ran = on_session()
    try:
        refused, claimed = a.pump([*writes, stale], [], [("maintenance", [kind], 2)], 30)
    finally:
        event.remove(client.store.engine, "before_cursor_execute", count)
    if client.store.is_postgresql:
        # One statement, on the store's prepared session rather than the pool's.
        assert (len(statements), on_session() - ran) == (0, 1)
    else:  # on the driver connection (store/sqlite_round.py), none through SQLAlchemy
        assert statements == []
    assert refused == [stale]
    before = {c.job_id for c in held} | {theirs.job_id}
    assert len(claimed) == 2 and not {c.job_id for c in claimed} & before
    assert all(c.attempt == 1 and c.type == kind and c.params["i"] >= 0 for c in claimed)
    for i, c in enumerate(held):
        job = client.jobs.get(c.job_id)
        assert job.status is S.COMPLETED and job.result == f"r{i}"
        assert [(e.from_status, e.to_status, e.reason) for e in client.jobs.events(c.job_id)][
            2:
        ] == [(S.LOCKED, S.RUNNING, "completed"), (S.RUNNING, S.COMPLETED, "completed")]
    assert client.jobs.get(theirs.job_id).status is S.LOCKED
    for c in claimed:
        assert client.jobs.get(c.job_id).status is S.LOCKED
        last = client.jobs.events(c.job_id)[-1]
        assert (last.from_status, last.to_status, last.attempt) == (S.WAITING, S.LOCKED, 1)
        assert last.reason == f"claimed by worker {a.worker_id}"
    # A claim alone takes what is left (one job), then finds nothing.
    assert [len(x) for x in a.pump([], [], [("maintenance", [kind], 5)], 30)] == [0, 1]
    assert a.pump([], [], [("maintenance", [kind], 5)], 30) == ([], [])
    client.close()


def test_schedule_many_stores_every_job_with_its_event(store_url: str) -> None:
    client = Client(store_url, run_workers=False)
    kind = noop_type(client)
    jobs = client.jobs.schedule_many(kind, [{"i": i} for i in range(50)], max_retries=7)
    assert [j.params for j in jobs] == [{"i": i} for i in range(50)]
    assert len({j.job_id for j in jobs}) == 50
    assert all(j.status is S.WAITING and j.max_retries == 7 for j in jobs)
    assert client.jobs.get(jobs[10].job_id) == jobs[10]
    events = client.jobs.events(jobs[10].job_id)
    assert [(e.from_status, e.to_status, e.reason) for e in events] == [
        (None, S.WAITING, "scheduled")
    ]
    assert client.jobs.schedule_many(kind, []) == []
    client.close()


def test_schedule_many_returns_each_job_as_a_read_of_it_finds_it(store_url: str) -> None:
    # The jobs are made from the rows as written, not read back: they must be the reads.
    client = Client(store_url, run_workers=False)
    client.job_type("bw.labelled", queue="maintenance", labels=["gpu"])(lambda ctx, p: None)
    jobs = client.jobs.schedule_many(
        "bw.labelled",
        [{"i": i, "s": 'é☃\U0001f600"\\' * i} for i in range(7)] + [None, [1, 2], "text"],
        timeout_sec=9,
        max_retries=4,
        retry_delay_sec=3,
        delay_sec=2.5,
        description="batch",
        labels=["eu"],
    )
    assert [client.jobs.get(j.job_id) for j in jobs] == jobs
    assert jobs[0].labels == ("eu", "gpu") and jobs[0].eta_ms == jobs[0].scheduled_at_ms + 2500
    assert jobs[9].params == "text" and jobs[8].params == [1, 2]
    assert jobs[1].params is not jobs[2].params
    client.close()


def test_schedule_many_runs_a_bounded_number_of_statements(store_url: str) -> None:
    client = Client(store_url, run_workers=False)
    kind = noop_type(client)
    client.jobs.schedule_many(kind, [{}])  # the type is stored, the connections warm
    statements: list[str] = []

    def count(conn: object, cursor: object, sql: str, *args: object) -> None:
        statements.append(sql)

    event.listen(client.store.engine, "before_cursor_execute", count)
    try:
        jobs = client.jobs.schedule_many(kind, [{"i": i} for i in range(12_000)])
    finally:
        event.remove(client.store.engine, "before_cursor_execute", count)
    assert len(jobs) == 12_000 and client.jobs.list(status="waiting").total == 12_001
    # Jobs and their events, each in chunks of BULK_ROWS: one statement a chunk on
    # PostgreSQL, two on SQLite (an executemany of many-row VALUES, then the rest), and
    # no read back of the rows.
    assert len(statements) <= 2 * 2 * math.ceil(12_000 / BULK_ROWS)
    assert not any(s.lstrip().upper().startswith("SELECT") for s in statements)
    client.close()


def test_schedule_many_checks_every_params_first_and_names_the_bad_one(
    store_url: str,
) -> None:
    import pydantic

    class Size(pydantic.BaseModel):
        size: int

    client = Client(store_url, run_workers=False)
    client.job_type("bw.sized", queue="maintenance", params=Size)(lambda ctx, p: None)
    with pytest.raises(errors.InvalidInput) as caught:
        client.jobs.schedule_many("bw.sized", [{"size": 1}, {"size": 2}, {"size": "big"}])
    assert caught.value.field == "params[2].size"
    assert client.jobs.list().total == 0  # all or nothing
    with pytest.raises(errors.InvalidInput) as bad_option:
        client.jobs.schedule_many("bw.sized", [{"size": 1}], max_retries=-1)
    assert bad_option.value.field == "max_retries"
    with pytest.raises(errors.NotFound):
        client.jobs.schedule_many("bw.unknown", [{}])
    client.close()


def test_schedule_many_jobs_run_on_a_worker(client: Client) -> None:
    seen: list[int] = []

    @client.job_type("bw.record", queue="maintenance")
    def record(ctx: object, params: dict[str, int]) -> int:
        seen.append(params["i"])
        return params["i"] * 2

    jobs = client.jobs.schedule_many("bw.record", [{"i": i} for i in range(30)])
    done = [client.jobs.wait(j.job_id, 30) for j in jobs]
    assert all(j.status is S.COMPLETED for j in done)
    assert [j.result for j in done] == [2 * i for i in range(30)]
    assert sorted(seen) == list(range(30))


def test_a_batch_of_hand_backs_clears_the_lock_of_each_job(store_url: str) -> None:
    client = Client(store_url, run_workers=False)
    kind = noop_type(client)
    client.jobs.schedule_many(kind, [None] * 3)
    a = AttemptRepository(client.store, str(uuid.uuid4()))
    claimed = a.claim("maintenance", [kind], 3, 30)
    back = [
        AttemptWrite(
            c.job_id,
            c.tenant_id,
            c.attempt,
            (S.LOCKED, S.RUNNING, S.WAITING),
            {"locked_by": None, "eta_ms": 0, "state": None if i else '{"k": 1}'},
            "handed back",
        )
        for i, c in enumerate(claimed)
    ]
    assert a.apply(back) == []
    jobs = [client.jobs.get(c.job_id) for c in claimed]
    assert all(j.status is S.WAITING and j.locked_by is None and j.eta_ms == 0 for j in jobs)
    assert jobs[0].state == {"k": 1} and jobs[1].state == {}
    again = AttemptRepository(client.store, str(uuid.uuid4()))
    assert {c.job_id for c in again.claim("maintenance", [kind], 5, 30)} == {
        c.job_id for c in claimed
    }
    client.close()


def test_a_fenced_batch_finds_its_rows_by_key_whatever_the_worker_held_before(
    store_url: str,
) -> None:
    """The fenced UPDATE looks each row up by primary key, whatever the statistics say.

    Not by the worker's entries in ``ix_jobs_held``, which every job it held leaves behind
    until a vacuum: that scan grows with the worker's history (PostgreSQL chose it from
    its statistics, a few rows held by the worker).
    """
    client = Client(store_url, run_workers=False)
    kind = noop_type(client)
    # Enough jobs that scanning the table costs more than eight lookups by key.
    client.jobs.schedule_many(kind, [None] * 3000)
    a = AttemptRepository(client.store, str(uuid.uuid4()))
    path = (S.LOCKED, S.RUNNING, S.COMPLETED)
    held = a.claim("maintenance", [kind], 200, 30)
    writes = [
        AttemptWrite(c.job_id, c.tenant_id, c.attempt, path, {"result": "1"}, "completed")
        for c in held
    ]
    assert a.apply(writes[:-8]) == []
    batch = writes[-8:]
    names = tuple(batch[0].values)
    compiled = a._shape_statement(path, names, single=False).compile(
        dialect=client.store.engine.dialect
    )
    given = {"p_at": 1, **a._rows_params(batch, path, names)}
    params = {k: given.get(k, v) for k, v in compiled.params.items()}
    with client.store.write() as conn:
        conn.exec_driver_sql("ANALYZE")
        explain = "EXPLAIN " if client.store.is_postgresql else "EXPLAIN QUERY PLAN "
        args = (
            params
            if client.store.is_postgresql
            else tuple(params[k] for k in compiled.positiontup or ())
        )
        plan = "\n".join(str(r[-1]) for r in conn.exec_driver_sql(explain + str(compiled), args))
    if client.store.is_postgresql:
        assert "Index Scan using jobs_pkey on jobs" in plan, plan
    else:
        assert "SEARCH jobs USING INDEX sqlite_autoindex_jobs_1 (job_id=?)" in plan, plan
    assert "ix_jobs_held" not in plan, plan
    assert a.apply(batch) == []
    assert client.jobs.list(status="completed", limit=1).total == 200
    client.close()
