"""Tenant isolation and roles on every endpoint: another tenant gets 404, a viewer 403."""

from __future__ import annotations

import base64
from collections.abc import Callable
from typing import Any

import cloudpickle
import httpx
from server_process import Tenant

from headrace.jet.pipeline import Pipeline

Route = tuple[str, str]

#: Writes on one object: another tenant gets 404, a viewer 403.
OBJECT_WRITES: dict[Route, dict[str, Any]] = {
    ("POST", "/jobs/{job_id}/cancel"): {},
    ("POST", "/jobs/{job_id}/suspend"): {},
    ("POST", "/jobs/{job_id}/resume"): {},
    ("POST", "/jobs/{job_id}/retry"): {},
    ("DELETE", "/jobs/{job_id}"): {},
    ("DELETE", "/lists/{name}"): {},
    ("DELETE", "/maps/{name}"): {},
    ("DELETE", "/maps/{name}/{key}"): {},
    ("POST", "/streams/{name}/close"): {},
    ("POST", "/pipeline-jobs/{job_id}/cancel"): {"json": {"force": True}},
    ("POST", "/pipeline-jobs/{job_id}/restart"): {},
    ("POST", "/pipeline-jobs/{job_id}/snapshots"): {"json": {"name": "snap", "timeout": 1}},
    ("PATCH", "/jobs/{job_id}"): {"json": {"description": "changed"}},
    ("POST", "/jobs/{job_id}/start"): {},
    ("POST", "/jobs/{job_id}/stop"): {},
    ("POST", "/jobs/{job_id}/acknowledge-error"): {},
    ("POST", "/jobs/{job_id}/duplicate"): {"json": {"count": 1}},
    ("POST", "/jobs/{job_id}/upgrade"): {},
    ("POST", "/jobs/{job_id}/offsets/reset"): {},
    ("PUT", "/jobs/{job_id}/offsets"): {"json": {"version": 2, "offsets": {}}},
    ("DELETE", "/projects/{name}"): {},
    ("DELETE", "/pipelines/{name}"): {},
    ("PUT", "/pipelines/{name}/labels/{label}"): {"json": {"version": 1}},
    ("DELETE", "/snapshots/{name}"): {},
    ("POST", "/jobs/{job_id}/schedules"): {"json": {"cron": "0 0 1 1 *"}},
    ("POST", "/schedules/{schedule_id}/pause"): {},
    ("POST", "/schedules/{schedule_id}/resume"): {},
    ("DELETE", "/schedules/{schedule_id}"): {},
}
#: Writes that create in the caller's tenant: another tenant's data stays untouched.
CREATING_WRITES: dict[Route, dict[str, Any]] = {
    ("POST", "/jobs"): {"json": {"type": "api.echo", "idempotency_key": "same-key"}},
    ("POST", "/jobs/batch"): {"json": {"type": "api.echo", "params": ["b", "b"]}},
    ("POST", "/lists/{name}"): {"json": {"items": ["b"]}},
    ("PUT", "/maps/{name}/{key}"): {"json": {"value": "b"}},
    ("POST", "/maps/{name}"): {"json": {"entries": {"k": "b"}}},
    ("POST", "/streams/{name}"): {"json": {"items": ["b"]}},
    ("POST", "/streams/{name}/entries"): {"json": {"entries": [{"value": "b", "key": "k"}]}},
    ("PUT", "/streams/{name}"): {},
    ("POST", "/pipeline-jobs"): {"json": {"pipeline": "", "name": "a-pipe"}},
    ("POST", "/projects"): {"json": {"name": "a-data"}},
    ("POST", "/pipelines"): {"json": {"pipeline": "", "name": "a-data"}},
    ("POST", "/job-definitions"): {"json": {"name": "b-defined", "type": "api.echo"}},
    # B's balance moves only B's jobs (it has none running: no move).
    ("POST", "/workers/balance"): {"json": {}},
    # The body is an archive A exported (see ``archive_of``): imported into B's tenant.
    ("POST", "/job-definitions/import"): {"headers": {"content-type": "application/zip"}},
    ("POST", "/job-definitions/upgrade"): {"json": {"job_ids": []}},
    # Purging A's job's queue as B cancels only B's waiting jobs there.
    ("POST", "/queues/{name}/purge"): {},
}
#: Reads of one object: another tenant gets 404.
OBJECT_READS: set[Route] = {
    ("GET", "/jobs/{job_id}"),
    ("GET", "/jobs/{job_id}/events"),
    ("GET", "/jobs/{job_id}/logs"),
    ("GET", "/jobs/by-prefix/{prefix}"),
    ("GET", "/jobs/{job_id}/status"),
    ("GET", "/lists/{name}"),
    ("GET", "/maps/{name}"),
    ("GET", "/maps/{name}/{key}"),
    ("GET", "/streams/{name}"),
    ("GET", "/streams/{name}/state"),
    ("GET", "/jobs/{job_id}/wait"),
    ("GET", "/pipeline-jobs/by-name/{name}"),
    ("GET", "/pipeline-jobs/{job_id}"),
    ("GET", "/pipeline-jobs/{job_id}/status"),
    ("GET", "/pipeline-jobs/{job_id}/metrics"),
    ("GET", "/pipeline-jobs/{job_id}/runs"),
    ("GET", "/projects/{name}"),
    ("GET", "/pipelines/{name}"),
    ("GET", "/pipelines/{name}/commits"),
    ("GET", "/pipelines/{name}/commits/{version}"),
    ("GET", "/pipelines/{name}/labels"),
    ("GET", "/pipelines/{name}/labels/{label}"),
    ("GET", "/pipelines/{name}/diff"),
    ("GET", "/jobs/{job_id}/summary"),
    ("GET", "/jobs/{job_id}/offsets"),
    ("GET", "/jobs/{job_id}/offsets/entities"),
    ("GET", "/jobs/{job_id}/runs"),
    ("GET", "/jobs/{job_id}/runs/{run_count}"),
    ("GET", "/jobs/{job_id}/runs/{run_count}/events"),
    ("GET", "/jobs/{job_id}/runs/{run_count}/logs"),
    ("GET", "/jobs/{job_id}/runs/{run_count}/metrics"),
    ("GET", "/jobs/{job_id}/plan"),
    ("GET", "/jobs/{job_id}/snapshots"),
    ("GET", "/jobs/{job_id}/reason"),
    ("GET", "/jobs/{job_id}/log-tail"),
    ("GET", "/jobs/{job_id}/schedules"),
    ("GET", "/schedules/{schedule_id}"),
    ("GET", "/schedules/{schedule_id}/firings"),
    ("POST", "/job-definitions/export"),
}
#: Reads sent as a POST with A's objects in the body: another tenant gets 404.
BODY_READS: dict[Route, str] = {("POST", "/job-definitions/export"): "job_ids"}
#: Query parameters some reads need (a long-poll that answers at once).
QUERY: dict[Route, dict[str, Any]] = {
    ("GET", "/jobs/{job_id}/wait"): {"timeout": 0},
    ("GET", "/pipelines/{name}/diff"): {"a": 1, "b": 1},
    ("GET", "/job-changes"): {"timeout": 0},
}
#: Reads of listings or of what tenants share (the catalog, workers, health, metrics).
OTHER_READS: set[Route] = {
    ("GET", "/jobs"),
    ("GET", "/pipeline-jobs"),
    ("GET", "/projects"),
    ("GET", "/pipelines"),
    ("GET", "/job-definitions"),
    ("GET", "/snapshots"),
    ("GET", "/queues"),
    ("GET", "/workers"),
    ("GET", "/whoami"),
    ("GET", "/job-types"),
    ("GET", "/job-types/{job_type_id}"),
    ("GET", "/job-groups"),
    ("GET", "/job-groups/{job_group_id}"),
    ("GET", "/healthz"),
    ("GET", "/metrics"),
    ("GET", "/overview"),
    ("GET", "/job-search"),
    ("GET", "/job-changes"),
    ("GET", "/data"),
    ("GET", "/schedules"),
}


def fill(path: str, ids: dict[str, str]) -> str:
    """The path with tenant A's objects: its pipeline job under /pipeline-jobs, else its job."""
    pipeline = path.startswith("/pipeline-jobs/") or path.endswith("/plan")
    job_id = ids["pipeline"] if pipeline else ids["job"]
    name = "a-pipe" if path.startswith("/pipeline-jobs/by-name") else "a-data"
    if path.startswith("/queues/"):
        name = "maintenance"  # the queue of A's waiting api.echo job
    return path.format(job_id=job_id, name=name, key="k", job_type_id="api.echo",
                       job_group_id="api", label="a-label", version=1,
                       run_count=1, prefix=ids["job"][:30],
                       schedule_id=ids["schedule"])  # fmt: skip


def read_kwargs(route: Route, ids: dict[str, str]) -> dict[str, Any]:
    """What a read of A's objects sends: its query, or A's job in the body."""
    if route in BODY_READS:
        return {"json": {BODY_READS[route]: [ids["job"]]}}
    return {"params": QUERY.get(route)}


def archive_of(a: httpx.Client, ids: dict[str, str]) -> bytes:
    """An archive of A's job, as A exports it."""
    answer = a.post("/job-definitions/export", json={"job_ids": [ids["job"]]})
    assert answer.status_code == 200, answer.text
    return answer.content


def pickled(pipeline: Pipeline) -> str:
    return base64.b64encode(cloudpickle.dumps(pipeline)).decode()


def seed(a: httpx.Client) -> dict[str, str]:
    """Tenant A's job (waiting an hour), ended pipeline job, List, Map and Stream; its
    project, published pipeline (labelled) and a job pinning it, all named ``a-data``."""
    job = a.post("/jobs", json={"type": "api.echo", "idempotency_key": "same-key",
                                "delay_sec": 3600})  # fmt: skip
    assert job.status_code == 201
    assert a.post("/lists/a-data", json={"items": ["a"]}).status_code == 200
    assert a.put("/maps/a-data/k", json={"value": "a"}).status_code == 200
    assert a.post("/streams/a-data", json={"items": ["a"]}).status_code == 200
    p = Pipeline.create()
    p.read_from(Pipeline.from_list("a-in", [1, 2])).write_to(Pipeline.to_list("a-out"))
    body = {"pipeline": pickled(p), "name": "a-pipe"}
    pipe = a.post("/pipeline-jobs", json=body)
    assert pipe.status_code == 201, pipe.text
    pipe_id = str(pipe.json()["job_id"])
    ended = a.get(f"/jobs/{pipe_id}/wait", params={"timeout": 20}).json()
    assert ended["status"] == "completed", ended
    assert a.post("/projects", json={"name": "a-data"}).status_code == 201
    body = {"pipeline": pickled(p), "name": "a-data", "labels": ["a-label"]}
    assert a.post("/pipelines", json=body).status_code == 201
    pinned = {"name": "a-pinned", "pipeline": "a-data"}
    assert a.post("/job-definitions", json=pinned).status_code == 201
    job_id = str(job.json()["job_id"])
    yearly = a.post(f"/jobs/{job_id}/schedules", json={"cron": "0 0 1 1 *"})
    assert yearly.status_code == 201, yearly.text
    return {"job": job_id, "pipeline": pipe_id, "schedule": str(yearly.json()["schedule_id"])}


def snapshot(a: httpx.Client, ids: dict[str, str]) -> list[Any]:
    pipeline = a.get(f"/pipeline-jobs/{ids['pipeline']}").json()
    return [
        a.get(f"/jobs/{ids['job']}").json(),
        a.get("/jobs").json()["total"],
        a.get("/lists/a-data").json(),
        a.get("/maps/a-data").json(),
        a.get("/streams/a-data").json()["items"],
        a.get("/streams/a-data/state").json(),
        {k: pipeline[k] for k in ("status", "updated_at_ms", "run_count", "result")},
        a.get(f"/pipeline-jobs/{ids['pipeline']}/runs").json(),
        a.get("/pipeline-jobs").json()["total"],
        a.get("/projects").json(),
        a.get("/pipelines/a-data").json(),
        a.get("/pipelines/a-data/commits").json(),
        a.get(f"/jobs/{ids['job']}/runs").json(),
        a.get("/job-definitions").json()["total"],
        a.get("/schedules").json(),
        a.get(f"/schedules/{ids['schedule']}/firings").json(),
    ]


#: Routes for a tenant's admin only (tokens): tests/integration/api/test_api_tokens.py.
ADMIN_ROUTES: set[Route] = {
    ("GET", "/tokens"),
    ("POST", "/tokens"),
    ("DELETE", "/tokens/{token_id}"),
}


def test_the_tables_cover_every_route_of_the_openapi_document(server: Any) -> None:
    spec = httpx.get(f"{server.url}/openapi.json").json()
    routes = {(m.upper(), p) for p, ops in spec["paths"].items() for m in ops}
    covered = set(OBJECT_WRITES) | set(CREATING_WRITES) | OBJECT_READS | OTHER_READS
    covered |= ADMIN_ROUTES
    assert routes == covered


def test_another_tenant_gets_404_on_every_object_and_changes_nothing(
    tenant: Callable[[], Tenant],
) -> None:
    a, b = tenant().http(), tenant().http()
    ids = seed(a)
    before = snapshot(a, ids)
    archive = archive_of(a, ids)
    for method, path in sorted(OBJECT_READS | set(OBJECT_WRITES)):
        route = (method, path)
        kwargs = OBJECT_WRITES[route] if route in OBJECT_WRITES else read_kwargs(route, ids)
        answer = b.request(method, fill(path, ids), **kwargs)
        assert answer.status_code == 404, (method, path, answer.text)
        assert answer.headers["content-type"] == "application/problem+json"
    b_pipeline = Pipeline.create()
    b_pipeline.read_from(Pipeline.from_list("b-in", ["b"])).write_to(Pipeline.to_list("b-out"))
    for (method, path), kwargs in CREATING_WRITES.items():
        if path in ("/pipeline-jobs", "/pipelines"):
            kwargs = {"json": {**kwargs["json"], "pipeline": pickled(b_pipeline)}}
        if path == "/job-definitions/import":
            kwargs = {**kwargs, "content": archive}
        answer = b.request(method, fill(path, ids), **kwargs)
        assert answer.status_code in (200, 201), (method, path, answer.text)
    b_jobs = b.get("/jobs").json()["items"]
    # B's job, its batch's two, pipeline job, definition, and the job it imported from A's
    # archive.
    assert len(b_jobs) == 6 and not {j["job_id"] for j in b_jobs} & set(ids.values())
    assert [j["name"] for j in b.get("/pipeline-jobs").json()["items"]] == ["a-pipe"]
    queues = b.get("/queues").json()["items"]
    assert sum(sum(q["jobs"].values()) for q in queues) == len(b_jobs), (
        "B's queues count only B's jobs"
    )
    assert snapshot(a, ids) == before
    assert b.get("/lists/a-data").json()["items"] == ["b"]


def test_a_viewer_gets_403_on_every_write_and_changes_nothing(
    tenant: Callable[[], Tenant],
) -> None:
    t = tenant()
    a, viewer = t.http("operator"), t.http("viewer")
    ids = seed(a)
    before = snapshot(a, ids)
    for (method, path), kwargs in {**OBJECT_WRITES, **CREATING_WRITES}.items():
        answer = viewer.request(method, fill(path, ids), **kwargs)
        assert answer.status_code == 403, (method, path, answer.text)
        assert answer.json()["type"] == "urn:headrace:problem:permission-denied"
    for method, path in sorted(OBJECT_READS | OTHER_READS):
        answer = viewer.request(method, fill(path, ids), **read_kwargs((method, path), ids))
        assert answer.status_code == 200, (method, path, answer.text)
    assert snapshot(a, ids) == before
    assert viewer.get("/whoami").json()["role"] == "viewer"
    assert viewer.get("/whoami").json()["tenant_id"] == t.tenant_id
