"""Shared fixtures: one store fixture over SQLite and PostgreSQL, databases per test, and
one client fixture over the embedded and the remote client.

``any_client`` is parametrized over ``embedded`` (the service in this process) and
``remote`` (the remote client of a real server on a fresh store, ``in_process_server``).
A test directory opts in by defining ``client`` as ``any_client`` (see
``tests/integration/service/conftest.py``); a test there that cannot run remotely says
why with ``@pytest.mark.embedded_only(reason=...)`` and runs embedded only.
"""

from __future__ import annotations

import os
import queue
import shutil
import threading
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy

import worker_groups
from headrace.client.embedded import Client
from headrace.store.database import Store

PG_ADMIN = os.environ.get("HEADRACE_TEST_PG", "postgresql://postgres@127.0.0.1:5432/test")
IN_CI = os.environ.get("CI", "").lower() == "true"


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "embedded_only(reason): run against the embedded client only; the reason says why "
        "the remote client cannot",
    )


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> Any:
    """``--dist loadgroup`` (as ``./dev test`` runs): with the groups of ``worker_groups``."""
    if config.getvalue("dist") != "loadgroup":
        return None
    return worker_groups.GroupScheduling(config, log)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Fail early if a test that must share a worker has no group (``worker_groups``)."""
    worker_groups.check_grouped(items)


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """``client_kind``: embedded and remote, or only embedded for ``embedded_only`` tests."""
    if "client_kind" not in metafunc.fixturenames:
        return
    marker = metafunc.definition.get_closest_marker("embedded_only")
    if marker is not None and not marker.kwargs.get("reason"):
        pytest.fail(f"{metafunc.definition.nodeid}: embedded_only needs reason=...")
    metafunc.parametrize("client_kind", ["embedded"] if marker else ["embedded", "remote"])


def _pg_url(database: str) -> str:
    url = sqlalchemy.make_url(PG_ADMIN).set(database=database)
    return url.render_as_string(hide_password=False)


def _admin() -> sqlalchemy.Engine:
    url = sqlalchemy.make_url(PG_ADMIN).set(drivername="postgresql+psycopg")
    return sqlalchemy.create_engine(
        url, isolation_level="AUTOCOMMIT", poolclass=sqlalchemy.NullPool
    )


@pytest.fixture(scope="session")
def pg_template() -> Iterator[str]:
    """A migrated template database; every PostgreSQL test copies it."""
    engine = _admin()
    try:
        with engine.connect() as conn:
            conn.exec_driver_sql("SELECT 1")
    except sqlalchemy.exc.OperationalError as exc:
        if IN_CI:
            pytest.fail(f"PostgreSQL is required under CI=true and is unreachable: {exc}")
        pytest.skip(f"PostgreSQL unreachable: {exc}")
    name = f"hr_tpl_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    with engine.connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    Store(_pg_url(name)).close()
    yield name
    with engine.connect() as conn:
        conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    engine.dispose()


class _Dropper:
    """Drops the tests' PostgreSQL databases in a thread, while the next tests run.

    A ``DROP DATABASE`` takes 0.3 to 1.3 s on this machine (it waits for the server to
    let go of the database's files); in the test's teardown it held up every PostgreSQL
    test that long. ``close`` waits for every drop, so none outlives the session.
    """

    def __init__(self) -> None:
        self._names: queue.Queue[str | None] = queue.Queue()
        self._failed: list[str] = []
        self._thread = threading.Thread(target=self._run, name="pg-dropper", daemon=True)
        self._thread.start()

    def drop(self, name: str) -> None:
        self._names.put(name)

    def _run(self) -> None:
        engine = _admin()
        while (name := self._names.get()) is not None:
            try:
                with engine.connect() as conn:
                    conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            except sqlalchemy.exc.SQLAlchemyError as exc:
                self._failed.append(f"{name}: {exc}")
        engine.dispose()

    def close(self) -> None:
        """Wait for the drops asked for; fail if one failed."""
        self._names.put(None)
        self._thread.join()
        assert not self._failed, f"test databases not dropped: {self._failed}"


@pytest.fixture(scope="session")
def pg_dropper() -> Iterator[_Dropper]:
    dropper = _Dropper()
    yield dropper
    dropper.close()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated SQLite file; every SQLite test store is a copy of it.

    As PostgreSQL's stores are copies of ``pg_template``: migrating each test's file from
    nothing took 0.3 to 0.5 s a test. ``tests/migration`` migrates files of its own.
    """
    path = tmp_path_factory.mktemp("sqlite-template") / "template.db"
    Store(f"sqlite:///{path}").close()
    # Closed by its last connection, the file holds everything: no WAL beside it to copy.
    assert not path.with_name(f"{path.name}-wal").exists()
    return path


@pytest.fixture(params=["sqlite", "postgresql"])
def store_factory(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Callable[[], str]]:
    """Makes empty, migrated stores: copies of a migrated SQLite file or PostgreSQL template."""
    if request.param == "sqlite":
        sqlite_template: Path = request.getfixturevalue("sqlite_template")

        def new_file() -> str:
            path = tmp_path / f"{uuid.uuid4().hex[:12]}.db"
            shutil.copyfile(sqlite_template, path)
            return f"sqlite:///{path}"

        yield new_file
        return
    template: str = request.getfixturevalue("pg_template")
    dropper: _Dropper = request.getfixturevalue("pg_dropper")
    engine = _admin()
    made: list[str] = []

    def new_database() -> str:
        name = f"hr_t_{os.getpid()}_{uuid.uuid4().hex[:10]}"
        with engine.connect() as conn:
            conn.exec_driver_sql(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
        made.append(name)
        return _pg_url(name)

    yield new_database
    engine.dispose()
    for name in made:
        dropper.drop(name)


@pytest.fixture
def store_url(store_factory: Callable[[], str]) -> str:
    """The URL of an empty, migrated store: a SQLite file or a PostgreSQL database."""
    return store_factory()


@pytest.fixture
def client(store_url: str) -> Iterator[Client]:
    """An embedded client with in-process workers and a short lease."""
    c = Client(store_url, lease_sec=3.0)
    yield c
    c.close()


@pytest.fixture
def any_client(client_kind: str, store_url: str) -> Iterator[Any]:
    """An embedded client, or the remote client of a real server, on a fresh store.

    Both use a 3 s lease. The remote one's server runs in this process (so the job types
    a test registers are the server's) and the client holds an admin token of the
    default tenant; ``for_tenant`` makes tokens of other tenants.
    """
    if client_kind == "embedded":
        embedded = Client(store_url, lease_sec=3.0)
        yield embedded
        embedded.close()
        return
    from in_process_server import InProcessServer  # the web stack, only where needed

    served = InProcessServer(store_url, lease_sec=3.0)
    try:
        yield served.client()
    finally:
        served.stop()


@pytest.fixture(scope="session")
def ray_cluster() -> Iterator[None]:
    """One local two-CPU Ray cluster for the whole test session (the dev extra has Ray)."""
    import ray

    started = not ray.is_initialized()
    if started:
        ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    yield
    if started:
        ray.shutdown()
