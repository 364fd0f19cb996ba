"""Tenant isolation and roles on every endpoint: another tenant gets 404, a viewer 403."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
from server_process import Tenant

Route = tuple[str, str]

#: Writes on one object: another tenant gets 404, a viewer 403.
OBJECT_WRITES: dict[Route, dict[str, Any]] = {
    ("POST", "/jobs/{job_id}/cancel"): {},
    ("POST", "/jobs/{job_id}/suspend"): {},
    ("POST", "/jobs/{job_id}/resume"): {},
    ("DELETE", "/jobs/{job_id}"): {},
    ("DELETE", "/lists/{name}"): {},
    ("DELETE", "/maps/{name}"): {},
    ("DELETE", "/maps/{name}/{key}"): {},
}
#: Writes that create in the caller's tenant: another tenant's data stays untouched.
CREATING_WRITES: dict[Route, dict[str, Any]] = {
    ("POST", "/jobs"): {"json": {"type": "api.echo", "idempotency_key": "same-key"}},
    ("POST", "/lists/{name}"): {"json": {"items": ["b"]}},
    ("PUT", "/maps/{name}/{key}"): {"json": {"value": "b"}},
    ("POST", "/streams/{name}"): {"json": {"items": ["b"]}},
}
#: Reads of one object: another tenant gets 404.
OBJECT_READS: set[Route] = {
    ("GET", "/jobs/{job_id}"),
    ("GET", "/jobs/{job_id}/events"),
    ("GET", "/jobs/{job_id}/logs"),
    ("GET", "/lists/{name}"),
    ("GET", "/maps/{name}"),
    ("GET", "/maps/{name}/{key}"),
    ("GET", "/streams/{name}"),
}
#: Reads of listings or of what tenants share (the catalog, workers, health, metrics).
OTHER_READS: set[Route] = {
    ("GET", "/jobs"),
    ("GET", "/queues"),
    ("GET", "/workers"),
    ("GET", "/whoami"),
    ("GET", "/job-types"),
    ("GET", "/job-types/{job_type_id}"),
    ("GET", "/job-groups"),
    ("GET", "/job-groups/{job_group_id}"),
    ("GET", "/healthz"),
    ("GET", "/metrics"),
}


def fill(path: str, job_id: str) -> str:
    return path.format(job_id=job_id, name="a-data", key="k", job_type_id="api.echo",
                       job_group_id="api")  # fmt: skip


def seed(a: httpx.Client) -> str:
    job = a.post("/jobs", json={"type": "api.echo", "idempotency_key": "same-key",
                                "delay_sec": 3600})  # fmt: skip
    assert job.status_code == 201
    assert a.post("/lists/a-data", json={"items": ["a"]}).status_code == 200
    assert a.put("/maps/a-data/k", json={"value": "a"}).status_code == 200
    assert a.post("/streams/a-data", json={"items": ["a"]}).status_code == 200
    return str(job.json()["job_id"])


def snapshot(a: httpx.Client, job_id: str) -> list[Any]:
    return [
        a.get(f"/jobs/{job_id}").json(),
        a.get("/jobs").json()["total"],
        a.get("/lists/a-data").json(),
        a.get("/maps/a-data").json(),
        a.get("/streams/a-data").json()["items"],
    ]


def test_the_tables_cover_every_route_of_the_openapi_document(server: Any) -> None:
    spec = httpx.get(f"{server.url}/openapi.json").json()
    routes = {(m.upper(), p) for p, ops in spec["paths"].items() for m in ops}
    covered = set(OBJECT_WRITES) | set(CREATING_WRITES) | OBJECT_READS | OTHER_READS
    assert routes == covered


def test_another_tenant_gets_404_on_every_object_and_changes_nothing(
    tenant: Callable[[], Tenant],
) -> None:
    a, b = tenant().http(), tenant().http()
    job_id = seed(a)
    before = snapshot(a, job_id)
    for method, path in sorted(OBJECT_READS | set(OBJECT_WRITES)):
        answer = b.request(method, fill(path, job_id), **OBJECT_WRITES.get((method, path), {}))
        assert answer.status_code == 404, (method, path, answer.text)
        assert answer.headers["content-type"] == "application/problem+json"
    for (method, path), kwargs in CREATING_WRITES.items():
        assert b.request(method, fill(path, job_id), **kwargs).status_code in (200, 201)
    assert b.get("/jobs").json()["total"] == 1
    assert job_id not in [j["job_id"] for j in b.get("/jobs").json()["items"]]
    queues = b.get("/queues").json()["items"]
    assert sum(sum(q["jobs"].values()) for q in queues) == 1, "B's queues count only B's job"
    assert snapshot(a, job_id) == before
    assert b.get("/lists/a-data").json()["items"] == ["b"]


def test_a_viewer_gets_403_on_every_write_and_changes_nothing(
    tenant: Callable[[], Tenant],
) -> None:
    t = tenant()
    a, viewer = t.http("operator"), t.http("viewer")
    job_id = seed(a)
    before = snapshot(a, job_id)
    for (method, path), kwargs in {**OBJECT_WRITES, **CREATING_WRITES}.items():
        answer = viewer.request(method, fill(path, job_id), **kwargs)
        assert answer.status_code == 403, (method, path, answer.text)
        assert answer.json()["type"] == "urn:headrace:problem:permission-denied"
    for method, path in sorted(OBJECT_READS | OTHER_READS):
        assert viewer.request(method, fill(path, job_id)).status_code == 200, (method, path)
    assert snapshot(a, job_id) == before
    assert viewer.get("/whoami").json()["role"] == "viewer"
    assert viewer.get("/whoami").json()["tenant_id"] == t.tenant_id
