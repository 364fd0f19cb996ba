"""A closed store refuses every use and leaves no session open, whoever used it last.

``Engine.dispose`` alone left the engine usable: a thread that used a store after its
``close`` opened a session nobody closed. These count PostgreSQL's sessions on the test's
database (``pg_stat_activity``) to check that none is left.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import Any

import pytest
import sqlalchemy

from headrace import Client, errors
from headrace.model.status import Status
from headrace.scheduler.context import JobContext
from headrace.scheduler.worker import Worker
from headrace.store.database import Store


def sessions(store_url: str) -> int:
    """PostgreSQL sessions on ``store_url``'s database, after those ending have ended.

    A backend leaves ``pg_stat_activity`` a moment after its client closed the
    connection: counted again for up to 2 s while there are any.
    """
    url = sqlalchemy.make_url(store_url)
    engine = sqlalchemy.create_engine(url.set(database="postgres"), poolclass=sqlalchemy.NullPool)
    query = sqlalchemy.text("SELECT count(*) FROM pg_stat_activity WHERE datname = :d")
    try:
        deadline = time.monotonic() + 2.0
        while True:
            with engine.connect() as conn:
                found = int(conn.execute(query, {"d": url.database}).scalar_one())
            if found == 0 or time.monotonic() > deadline:
                return found
            time.sleep(0.05)
    finally:
        engine.dispose()


def uses(store: Store) -> dict[str, Callable[[], AbstractContextManager[Any]]]:
    """Every way into the store, by name."""
    return {
        "write": store.write,
        "read": store.read,
        "single": store.single,
        "read_one": store.read_one,
        "writer_turn": store.writer_turn,
        "engine.connect": store.engine.connect,
    }


def test_a_closed_store_refuses_every_use_and_opens_no_session(store_url: str) -> None:
    store = Store(store_url)
    with store.read_one() as conn:
        conn.exec_driver_sql("SELECT 1")
    if store.is_postgresql:
        assert store.prepared_rows("SELECT 1", {}) == [(1,)]
    store.close()
    assert store.closed
    for name, use in uses(store).items():
        with pytest.raises(errors.StoreClosed, match="is closed"), use():
            pytest.fail(f"{name} ran on a closed store")
    if store.is_postgresql:
        with pytest.raises(errors.StoreClosed):
            store.prepared_rows("SELECT 1", {})
        assert sessions(store_url) == 0
    assert store.engine.pool.checkedin() == 0 and store.engine.pool.checkedout() == 0
    # Not a StoreUnavailable: loops that retry on that must not spin on a closed store.
    assert issubclass(errors.StoreClosed, errors.StoreError)
    assert not issubclass(errors.StoreClosed, errors.StoreUnavailable)


def test_closing_twice_is_closing_once(store_url: str) -> None:
    store = Store(store_url)
    store.close()
    store.close()
    assert store.closed
    with pytest.raises(errors.StoreClosed), store.read():
        pass


def test_the_error_names_the_store_without_its_password() -> None:
    store = Store("postgresql://ann:s3cret@127.0.0.1:1/nowhere", migrate=False)
    store.close()
    with pytest.raises(errors.StoreClosed) as info, store.read():
        pass
    assert "ann:***@127.0.0.1:1/nowhere" in info.value.url
    assert "s3cret" not in str(info.value) and "s3cret" not in info.value.url


def test_a_transaction_under_way_as_the_store_closes_closes_its_connection(
    store_url: str,
) -> None:
    store = Store(store_url)
    inside, closed = threading.Event(), threading.Event()
    held: list[Any] = []

    def reader() -> None:
        with store.read() as conn:
            conn.exec_driver_sql("SELECT 1")
            held.append(conn.connection.dbapi_connection)
            inside.set()
            closed.wait(10)

    thread = threading.Thread(target=reader)
    thread.start()
    assert inside.wait(10)
    store.close()  # the reader's connection is checked out: dispose cannot close it
    closed.set()
    thread.join(10)
    dbapi = held[0]
    if store.is_postgresql:
        assert dbapi.closed
        assert sessions(store_url) == 0
    else:
        with pytest.raises(Exception, match="closed database"):
            dbapi.execute("SELECT 1")


@pytest.mark.parametrize("store_factory", ["postgresql"], indirect=True)
@pytest.mark.filterwarnings("error::pytest.PytestUnhandledThreadExceptionWarning")
def test_a_client_closed_with_jobs_running_leaves_no_session(
    store_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    """Its worker's threads (pump, keeper, listener, slots) end before its store closes."""
    client = Client(store_url, lease_sec=3.0)
    started = threading.Event()

    @client.job_type("close.wait", queue="maintenance")
    def wait(ctx: JobContext, params: object) -> None:
        started.set()
        ctx.sleep(1.0)  # running as the client closes

    client.job_type("close.quick", queue="maintenance")(lambda ctx, p: 1)
    done = client.jobs.schedule("close.quick")
    assert client.jobs.wait(done.job_id, 30).status is Status.COMPLETED
    running = client.jobs.schedule("close.wait")
    assert started.wait(30)
    assert sessions(store_url) > 0
    client.close()
    assert sessions(store_url) == 0
    assert [r.getMessage() for r in caplog.records if "closed" in r.getMessage()] == []
    again = Client(store_url, run_workers=False)
    try:  # it ran to its end as the worker stopped, or went back to wait
        assert again.jobs.get(running.job_id).status in (Status.COMPLETED, Status.WAITING)
    finally:
        again.close()


@pytest.mark.parametrize("store_factory", ["postgresql"], indirect=True)
def test_a_job_that_outlives_its_workers_stop_cannot_reopen_the_store(store_url: str) -> None:
    """A slot thread is not joined (its job may ignore a stop): what it does later is refused.

    Before, its read after the store's close opened a session in a new pool, open until
    the store was garbage (then psycopg's "deleted while still open" warning).
    """
    client = Client(store_url, run_workers=False)
    store = Store(store_url)  # the worker's, closed once the worker stopped
    started, go_on, ended = threading.Event(), threading.Event(), threading.Event()
    raised: list[BaseException] = []

    @client.job_type("close.stubborn", queue="maintenance")
    def stubborn(ctx: JobContext, params: object) -> None:
        started.set()
        go_on.wait(30)  # ignores the stop its worker asks for, as a job may
        try:
            assert ctx.store is not None
            with ctx.store.read_one() as conn:
                conn.exec_driver_sql("SELECT 1")
        except errors.StoreError as exc:
            raised.append(exc)
        finally:
            ended.set()

    client.jobs.schedule("close.stubborn")
    worker = Worker(store, client.registry, {"maintenance": 1}, lease_sec=5).start()
    assert started.wait(10)
    worker.stop(grace_sec=0.1)  # hands the job back; its thread runs on
    store.close()
    go_on.set()
    assert ended.wait(10)
    assert [type(e) for e in raised] == [errors.StoreClosed]
    client.close()
    assert sessions(store_url) == 0


def test_a_second_stop_returns_once_the_first_has_ended_the_workers_threads(
    store_url: str,
) -> None:
    """Whoever calls ``Worker.stop`` closes the store next: every caller waits for the stop.

    A second caller returned at once, while the first still waited out its grace period
    with the pump running, and closed the store under the pump.
    """
    client = Client(store_url, run_workers=False)
    started, release = threading.Event(), threading.Event()

    @client.job_type("close.held", queue="maintenance")
    def held(ctx: JobContext, params: object) -> str:
        started.set()
        release.wait(10)
        return "done"

    job = client.jobs.schedule("close.held")
    store = Store(store_url)
    worker = Worker(store, client.registry, {"maintenance": 1}, lease_sec=5).start()
    assert started.wait(10)
    first = threading.Thread(target=worker.stop, kwargs={"grace_sec": 30})
    first.start()
    assert worker._stopping.wait(5)  # the first stop is under way, in its grace period
    threading.Timer(0.5, release.set).start()
    worker.stop()  # as a signal handler's, say, then the store's close
    store.close()
    # The first stop let the job end and wrote its end before either stop returned.
    assert client.jobs.get(job.job_id).status is Status.COMPLETED
    first.join(10)
    client.close()
