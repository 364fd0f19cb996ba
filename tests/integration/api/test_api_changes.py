"""``GET /job-changes``: the tenant's job changes as server-sent events, live."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator

import httpx
from server_process import Tenant, wait_status

from headrace.service.tokens import TokenService


def events(answer: httpx.Response) -> Iterator[tuple[str, str | None, dict[str, object]]]:
    """``(event, id, data)`` of each server-sent event as it arrives."""
    kind, event_id, data = "message", None, ""
    for line in answer.iter_lines():
        if line == "":
            if data:
                yield kind, event_id, json.loads(data)
            kind, event_id, data = "message", None, ""
        elif line.startswith("event: "):
            kind = line.removeprefix("event: ")
        elif line.startswith("id: "):
            event_id = line.removeprefix("id: ")
        elif line.startswith("data: "):
            data += line.removeprefix("data: ")


def test_a_job_change_arrives_on_the_stream_of_its_tenant_only(
    tenant: Callable[[], Tenant],
) -> None:
    a, b = tenant().http(), tenant().http()
    with a.stream("GET", "/job-changes", params={"timeout": 30}) as mine:
        assert mine.status_code == 200
        assert mine.headers["content-type"].startswith("text/event-stream")
        seen = events(mine)
        kind, _id, ready = next(seen)
        assert kind == "ready" and isinstance(ready["at_ms"], int)
        theirs = b.post("/jobs", json={"type": "api.echo", "name": "theirs"}).json()["job_id"]
        job_id = a.post("/jobs", json={"type": "api.echo", "name": "mine"}).json()["job_id"]
        statuses = []
        for kind, event_id, data in seen:
            assert kind == "job" and data["job_id"] != theirs
            assert data["job_id"] == job_id and data["name"] == "mine"
            assert event_id == str(data["updated_at_ms"])
            statuses.append(data["status"])
            if data["status"] == "completed":
                break
    assert statuses[-1] == "completed" and len(statuses) == len(set(statuses))


def test_a_reconnect_from_the_last_id_gets_what_it_missed(tenant: Callable[[], Tenant]) -> None:
    a = tenant().http()
    job_id = a.post("/jobs", json={"type": "api.echo"}).json()["job_id"]
    wait_status(a, job_id, {"completed"})
    since = a.get(f"/jobs/{job_id}").json()["updated_at_ms"] - 1
    with a.stream("GET", "/job-changes", params={"since_ms": since, "timeout": 0}) as answer:
        found = list(events(answer))  # timeout 0: one read, then the stream ends
    assert found[0][0] == "ready"
    assert [(k, d["job_id"], d["status"]) for k, _i, d in found[1:]] == [
        ("job", job_id, "completed")
    ]
    header = {"Last-Event-ID": str(since)}
    with a.stream("GET", "/job-changes", params={"timeout": 0}, headers=header) as answer:
        assert [d.get("job_id") for _k, _i, d in events(answer)][1:] == [job_id]


def test_the_stream_refuses_bad_input_and_strangers(tenant: Callable[[], Tenant]) -> None:
    t = tenant()
    for params in ({"timeout": 301}, {"timeout": -1}, {"since_ms": -5}):
        answer = t.http().get("/job-changes", params=params)
        assert answer.status_code == 422, answer.text
    refused = httpx.get(f"{t.url}/job-changes", params={"timeout": 0})
    assert refused.status_code == 401
    with t.http("viewer").stream("GET", "/job-changes", params={"timeout": 0}) as answer:
        assert answer.status_code == 200  # reading is a viewer's right


def test_a_token_revoked_while_streaming_ends_the_stream(
    tenant: Callable[[], Tenant], token_service: TokenService
) -> None:
    t = tenant()
    token, record = token_service.create(t.name, "short-lived", "viewer")
    headers = {"Authorization": f"Bearer {token}"}
    http = t.http()
    with http.stream("GET", "/job-changes", params={"timeout": 60}, headers=headers) as answer:
        seen = events(answer)
        assert next(seen)[0] == "ready"
        token_service.revoke(record.token_id)
        rest = list(seen)  # the stream ends at its next check of the token
    assert [kind for kind, _i, _d in rest] == ["unauthenticated"]
    assert rest[0][2]["status"] == 401
