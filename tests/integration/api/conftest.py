"""One real ``headrace server`` per store (SQLite, PostgreSQL) for the whole API suite.

Tests isolate themselves by tenant: ``tenant()`` makes tokens for a fresh tenant.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator

import httpx
import pytest
import sqlalchemy
from server_process import RunningServer, Tenant, start_server

from headrace.service.tokens import TokenService
from headrace.store.database import Store

PG_ADMIN = os.environ.get("HEADRACE_TEST_PG", "postgresql://postgres@127.0.0.1:5432/test")


def _admin() -> sqlalchemy.Engine:
    url = sqlalchemy.make_url(PG_ADMIN).set(drivername="postgresql+psycopg")
    return sqlalchemy.create_engine(
        url, isolation_level="AUTOCOMMIT", poolclass=sqlalchemy.NullPool
    )


@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
def api_store_url(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """One migrated store per database for the whole API suite."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('api')}/api.db"
        Store(url).close()
        yield url
        return
    template: str = request.getfixturevalue("pg_template")
    name = f"hr_api_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    engine = _admin()
    with engine.connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
    yield sqlalchemy.make_url(PG_ADMIN).set(database=name).render_as_string(hide_password=False)
    with engine.connect() as conn:
        conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    engine.dispose()


@pytest.fixture(scope="session")
def server(api_store_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    """A ``headrace server`` with one in-process worker on the suite's store."""
    log = tmp_path_factory.mktemp("server") / "server.log"
    running = start_server(api_store_url, log, "--lease-sec", "3")
    yield running
    code = running.stop()
    assert code == 0, f"server exited {code}:\n{running.output()}"
    assert "Traceback" not in running.output(), running.output()


@pytest.fixture(scope="session")
def token_service(api_store_url: str) -> Iterator[TokenService]:
    store = Store(api_store_url)
    yield TokenService(store)
    store.close()


@pytest.fixture
def tenant(server: RunningServer, token_service: TokenService) -> Iterator[Callable[[], Tenant]]:
    """Makes a fresh tenant with an admin, an operator and a viewer token."""
    opened: list[httpx.Client] = []

    def make() -> Tenant:
        name = f"t-{uuid.uuid4().hex[:10]}"
        tokens = {}
        tenant_id = ""
        for role in ("admin", "operator", "viewer"):
            token, record = token_service.create(name, f"{role}-user", role)
            tokens[role] = token
            tenant_id = record.tenant_id
        return Tenant(name, tenant_id, tokens, server.url, opened)

    yield make
    for client in opened:
        client.close()


@pytest.fixture
def api(tenant: Callable[[], Tenant]) -> Iterator[httpx.Client]:
    """An operator's HTTP client of a fresh tenant."""
    yield tenant().http()
