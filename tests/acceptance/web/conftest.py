"""One real ``headrace server`` (with workers) per store, one headless Chromium per session.

The server runs as a subprocess on a migrated store (SQLite file or PostgreSQL copy of
the template) and imports ``web_jobs``. Chromium is Debian's (``/usr/bin/chromium``,
which ``.ci/run`` installs); Playwright's own browser download is not used. Without
Chromium the tests skip locally and fail under ``CI=true``.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy
from playwright.sync_api import Page
from web_support import HERE, Served, open_signed_in

from child_path import child_pythonpath
from headrace.service.tokens import TokenService
from headrace.store.database import Store

CHROMIUM = os.environ.get("HEADRACE_CHROMIUM", "/usr/bin/chromium")
IN_CI = os.environ.get("CI", "").lower() == "true"
PG_ADMIN = os.environ.get("HEADRACE_TEST_PG", "postgresql://postgres@127.0.0.1:5432/test")
#: Screenshots land here (an artefact of the run; README's come from a run's copies).
ARTEFACTS = Path(
    os.environ.get("HEADRACE_WEB_ARTEFACTS", HERE.parent.parent.parent / ".artefacts" / "web")
)
ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--no-first-run", "--disable-sync", "--disable-quic",
]  # fmt: skip


def _missing(what: str) -> None:
    if IN_CI:
        pytest.fail(f"{what} is required under CI=true (.ci/run installs it)")
    pytest.skip(f"{what} is not installed")


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    """Debian's Chromium, headless, driven by Playwright."""
    if not Path(CHROMIUM).exists():
        _missing(CHROMIUM)
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _missing("playwright (the dev extra)")
    with sync_playwright() as pw:
        launched = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        yield launched
        launched.close()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _admin() -> sqlalchemy.Engine:
    url = sqlalchemy.make_url(PG_ADMIN).set(drivername="postgresql+psycopg")
    return sqlalchemy.create_engine(
        url, isolation_level="AUTOCOMMIT", poolclass=sqlalchemy.NullPool
    )


def _start(store_url: str, log: Path) -> tuple[subprocess.Popen[bytes], str]:
    port = _free_port()
    env = {**os.environ, "PYTHONPATH": child_pythonpath(HERE)}
    env.pop("HEADRACE_STORE", None)
    command = [
        sys.executable, "-m", "headrace", "server", "--store", store_url, "--port", str(port),
        "--import", "web_jobs", "--workers", "2", "--lease-sec", "3",
    ]  # fmt: skip
    with log.open("ab") as out:
        proc = subprocess.Popen(command, env=env, stdout=out, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        assert proc.poll() is None, log.read_text()
        try:
            if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                return proc, url
        except httpx.TransportError:
            pass
        if time.monotonic() > deadline:
            proc.kill()
            pytest.fail(f"server did not answer:\n{log.read_text()}")
        time.sleep(0.05)


@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
def served(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Served]:
    """A server with two workers on a fresh store; tokens of tenant ``acme`` and ``bulk``."""
    where = tmp_path_factory.mktemp(f"web-{request.param}")
    dropped: list[str] = []
    if request.param == "sqlite":
        store_url = f"sqlite:///{where}/web.db"
    else:
        template: str = request.getfixturevalue("pg_template")
        name = f"hr_web_{os.getpid()}_{uuid.uuid4().hex[:8]}"
        with _admin().connect() as conn:
            conn.exec_driver_sql(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
        dropped.append(name)
        store_url = (
            sqlalchemy.make_url(PG_ADMIN).set(database=name).render_as_string(hide_password=False)
        )
    store = Store(store_url)
    tokens, tenant_ids = {}, {}
    service = TokenService(store)
    for tenant, user, role, key in (
        ("acme", "olga", "operator", "operator"),
        ("acme", "vic", "viewer", "viewer"),
        ("bulk", "bea", "operator", "bulk"),
    ):
        tokens[key], record = service.create(tenant, user, role)
        tenant_ids[key] = record.tenant_id
    store.close()
    proc, url = _start(store_url, where / "server.log")
    running = Served(url, store_url, proc, where / "server.log", tokens, tenant_ids, request.param)
    yield running
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(30)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
    for name in dropped:
        with _admin().connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def artefacts() -> Path:
    """Where screenshots go (emptied once per run)."""
    if ARTEFACTS.exists():
        shutil.rmtree(ARTEFACTS)
    ARTEFACTS.mkdir(parents=True)
    return ARTEFACTS


@pytest.fixture
def operator(served: Served) -> Iterator[httpx.Client]:
    """Tenant ``acme``'s operator, over HTTP."""
    with served.http("operator") as http:
        yield http


@pytest.fixture
def page(browser: Any, served: Served) -> Iterator[Page]:
    """An operator's signed-in tab at 1280 px."""
    opened = open_signed_in(browser, served, "operator", viewport={"width": 1280, "height": 900})
    yield opened
    opened.context.close()
