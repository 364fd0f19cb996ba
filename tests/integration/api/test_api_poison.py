"""Text that cannot round-trip through both databases and JSON: 422 naming it, nothing written.

Runs against a real ``headrace server`` on SQLite and on PostgreSQL (issue 14, defect 1).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import quote

import httpx
import pytest
import sqlalchemy
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from server_process import RunningServer, Tenant

from headrace.store.tables import maintenance_leases, metadata

SURROGATE = "\ud800"
DEEP: Any = 1
for _ in range(200):
    DEEP = [DEEP]


@pytest.fixture(scope="module")
def engine(api_store_url: str, server: RunningServer) -> Any:
    """The suite's store, once its server holds the maintenance role.

    The server's first maintenance run (within a second or so of its start, longer under
    load) inserts the role's ``maintenance_leases`` row: a row no request writes, which
    would otherwise land between a first test's two counts.
    """
    url = sqlalchemy.make_url(api_store_url)
    if url.get_backend_name() == "postgresql":
        url = url.set(drivername="postgresql+psycopg")
    made = sqlalchemy.create_engine(url, poolclass=sqlalchemy.NullPool)
    deadline = time.monotonic() + 60
    while not _maintenance_held(made):
        assert time.monotonic() < deadline, f"no maintenance lease:\n{server.output()}"
        time.sleep(0.05)
    yield made
    made.dispose()


def _maintenance_held(engine: sqlalchemy.Engine) -> bool:
    query = sqlalchemy.select(sqlalchemy.func.count()).select_from(maintenance_leases)
    with engine.connect() as conn:
        return bool(conn.execute(query).scalar_one())


def counts(engine: sqlalchemy.Engine, tenant_id: str) -> dict[str, int]:
    """The number of rows of every table (the tenant's rows where a table has tenants).

    Per tenant, because the suite's server runs other tests' jobs meanwhile.
    """
    found = {}
    with engine.connect() as conn:
        for t in metadata.sorted_tables:
            query = sqlalchemy.select(sqlalchemy.func.count()).select_from(t)
            if "tenant_id" in t.c:
                query = query.where(t.c.tenant_id == tenant_id)
            found[t.name] = conn.execute(query).scalar_one()
    return found


#: (method, path, JSON text or None, field the 422 must name)
CASES: list[tuple[str, str, str | None, str]] = [
    ("POST", "/jobs", '{"type": "api.echo", "params": {"a": "\\ud800"}}', "params"),
    ("POST", "/jobs", '{"type": "api.echo", "name": "x\\ud800"}', "name"),
    ("POST", "/jobs", '{"type": "api\\u0000echo"}', "type"),
    ("POST", "/jobs", '{"type": "api.echo", "name": "a\\u0000b"}', "name"),
    ("POST", "/jobs", '{"type": "api.echo", "idempotency_key": "k\\u0000"}', "idempotency_key"),
    ("POST", "/jobs", '{"type": "api.echo", "params": {"k\\u0000": 1}}', "params"),
    ("POST", "/jobs", '{"type": "api.echo", "params": ' + str(DEEP) + "}", "params"),
    ("POST", "/lists/l", '{"items": ["\\ud800"]}', "items"),
    ("POST", "/lists/l", '{"items": ["a\\u0000"]}', "items"),
    ("PUT", "/maps/m/k", '{"value": "\\udfff"}', "value"),
    ("POST", "/streams/s", '{"items": [{"x": "\\ud800"}]}', "items"),
    ("GET", "/jobs?type=a%00b", None, "type"),
    ("GET", "/jobs/a%00b", None, "job_id"),
    ("GET", "/jobs/urn:uuid:0190c0de-0000-7000-8000-000000000000", None, "job_id"),
    ("GET", "/jobs/%7B0190c0de-0000-7000-8000-000000000000%7D", None, "job_id"),
    ("POST", "/jobs/urn:uuid:0190c0de-0000-7000-8000-000000000000/cancel", None, "job_id"),
    ("POST", "/lists/a%00b", '{"items": [1]}', "name"),
    ("GET", "/lists/a%00b", None, "name"),
]


@pytest.mark.parametrize(("method", "path", "body", "field"), CASES)
def test_poison_text_is_422_naming_it_and_writes_nothing(
    tenant: Callable[[], Tenant],
    engine: sqlalchemy.Engine,
    method: str,
    path: str,
    body: str | None,
    field: str,
) -> None:
    who = tenant()
    api = who.http()
    before = counts(engine, who.tenant_id)
    if body is None:
        answer = api.request(method, path)
    else:
        answer = api.request(
            method, path, content=body.encode(), headers={"content-type": "application/json"}
        )
    assert answer.status_code == 422, answer.text
    assert field in answer.json()["field"], answer.json()
    assert counts(engine, who.tenant_id) == before
    # Every read that could show the value still answers.
    assert api.get("/jobs").status_code == 200


def test_values_python_stored_with_surrogates_read_back_over_rest(
    tenant: Callable[[], Tenant], api_store_url: str
) -> None:
    from headrace import Client

    who = tenant()
    api = who.http()
    with Client(store=api_store_url, tenant_id=who.tenant_id, run_workers=False) as client:
        client.get_list("py").append("ok" + SURROGATE)
    answer = api.get("/lists/py")
    assert answer.status_code == 200, answer.text
    assert answer.json()["items"] == [{"$repr": repr("ok" + SURROGATE)}]


#: Text from every plane, surrogates and NUL included.
ANY_TEXT = st.text(st.characters(codec=None, categories=None), max_size=300) | st.sampled_from(
    ["x" * 300, "\x00", SURROGATE, "日本語 العربية ﷽ 🙂", "a\udc80b"]
)
NESTED = st.recursive(
    ANY_TEXT | st.integers(), lambda inner: st.lists(inner, max_size=3), max_leaves=8
)


def _send(
    who: Tenant, api: httpx.Client, engine: sqlalchemy.Engine, method: str, path: str, body: Any
) -> None:
    """One request: never a 5xx; a refused one leaves every table as it was."""
    before = counts(engine, who.tenant_id)
    content = None if body is None else json.dumps(body).encode()  # ASCII: \ud800 escapes
    answer = api.request(
        method, path, content=content, headers={"content-type": "application/json"}
    )
    assert answer.status_code < 500, answer.text
    if answer.status_code >= 400:
        assert counts(engine, who.tenant_id) == before, answer.text


def _quoted(text: str) -> str:
    return quote(text.encode("utf-8", "surrogatepass"), safe="")


@settings(
    max_examples=50,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(name=ANY_TEXT, key=ANY_TEXT, kind=ANY_TEXT, params=NESTED, list_name=ANY_TEXT)
def test_fuzzed_text_is_never_a_5xx_and_a_refusal_writes_nothing(
    tenant: Callable[[], Tenant],
    engine: sqlalchemy.Engine,
    name: str,
    key: str,
    kind: str,
    params: Any,
    list_name: str,
) -> None:
    who = tenant()
    api = who.http()
    # Delayed: a job that ran would add events while later requests are counted.
    job = {"type": "api.echo", "name": name, "idempotency_key": key or None, "params": [params]}
    job["delay_sec"] = 3600
    _send(who, api, engine, "POST", "/jobs", {**job, "type": kind})
    _send(who, api, engine, "POST", "/jobs", job)
    _send(who, api, engine, "GET", f"/jobs?type={_quoted(kind)}", None)
    _send(who, api, engine, "POST", f"/lists/{_quoted(list_name)}", {"items": [params, name]})
    _send(who, api, engine, "PUT", f"/maps/m/{_quoted(key)}", {"value": params})
    _send(who, api, engine, "GET", f"/lists/{_quoted(list_name)}", None)
    _send(who, api, engine, "GET", f"/maps/m/{_quoted(key)}", None)
    assert api.get("/jobs").status_code == 200
    assert api.get("/jobs", params={"limit": 100}).status_code == 200
