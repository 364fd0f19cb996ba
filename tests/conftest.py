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
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import sqlalchemy

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


@pytest.fixture(params=["sqlite", "postgresql"])
def store_factory(
    request: pytest.FixtureRequest, tmp_path: os.PathLike[str]
) -> Iterator[Callable[[], str]]:
    """Makes empty, migrated stores: SQLite files, or PostgreSQL copies of the template."""
    if request.param == "sqlite":
        yield lambda: f"sqlite:///{tmp_path}/{uuid.uuid4().hex[:12]}.db"
        return
    template: str = request.getfixturevalue("pg_template")
    engine = _admin()
    made: list[str] = []

    def new_database() -> str:
        name = f"hr_t_{os.getpid()}_{uuid.uuid4().hex[:10]}"
        with engine.connect() as conn:
            conn.exec_driver_sql(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
        made.append(name)
        return _pg_url(name)

    yield new_database
    with engine.connect() as conn:
        for name in made:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    engine.dispose()


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
