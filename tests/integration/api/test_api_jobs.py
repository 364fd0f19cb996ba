"""Seed 004's job, job type and job group endpoints through a real server process."""

from __future__ import annotations

import dataclasses
import uuid

import httpx
from server_process import wait_status

from headrace import defaults
from headrace.model.job import Job

PROBLEM = "application/problem+json"


def schedule(api: httpx.Client, type: str = "api.echo", **body: object) -> dict[str, object]:
    answer = api.post("/jobs", json={"type": type, **body})
    assert answer.status_code == 201, answer.text
    job: dict[str, object] = answer.json()
    return job


def assert_problem(answer: httpx.Response, status: int, **fields: object) -> dict[str, object]:
    assert answer.status_code == status, answer.text
    assert answer.headers["content-type"] == PROBLEM
    body: dict[str, object] = answer.json()
    assert body["status"] == status and body["detail"]
    for name, value in fields.items():
        assert body.get(name) == value, body
    return body


def test_schedule_returns_201_then_200_for_the_same_idempotency_key(api: httpx.Client) -> None:
    key = str(uuid.uuid4())
    first = api.post("/jobs", json={"type": "api.echo", "idempotency_key": key, "params": {"x": 1}})
    assert first.status_code == 201
    job = first.json()
    assert set(job) == {f.name for f in dataclasses.fields(Job)}
    assert job["type"] == "api.echo" and job["idempotency_key"] == key
    assert job["params"] == {"x": 1} and job["status"] == "waiting"
    again = api.post("/jobs", json={"type": "api.echo", "idempotency_key": key, "params": {"x": 1}})
    assert again.status_code == 200
    assert again.json()["job_id"] == job["job_id"] and again.json()["params"] == {"x": 1}
    other = api.post("/jobs", json={"type": "api.echo", "idempotency_key": key, "params": {"x": 2}})
    assert other.status_code == 409, other.text
    assert key in other.json()["detail"] and "params" in other.json()["detail"]
    assert api.get("/jobs").json()["total"] == 1


def test_a_job_runs_and_shows_result_events_and_logs(api: httpx.Client) -> None:
    job = schedule(api, params={"hello": "world"}, max_retries=2, timeout_sec=60)
    assert job["max_retries"] == 2 and job["timeout_sec"] == 60
    done = wait_status(api, str(job["job_id"]), {"completed", "failed"})
    assert done["status"] == "completed" and done["result"] == {"hello": "world"}
    assert done["progress"] == 1.0 and done["started_at_ms"] is not None
    events = api.get(f"/jobs/{job['job_id']}/events").json()
    assert [e["to_status"] for e in events["items"]] == [
        "waiting",
        "locked",
        "running",
        "completed",
    ]
    assert events["total"] == 4
    logs = api.get(f"/jobs/{job['job_id']}/logs").json()["items"]
    assert [line["message"] for line in logs] == ["echo {'hello': 'world'}"]


def test_list_pages_filters_and_orders(api: httpx.Client) -> None:
    ids = [schedule(api, delay_sec=3600)["job_id"] for _ in range(5)]
    page = api.get("/jobs", params={"page": 2, "limit": 2, "order": "scheduled_at"}).json()
    assert (page["page"], page["limit"], page["total"]) == (2, 2, 5)
    assert [j["job_id"] for j in page["items"]] == ids[2:4]
    newest = api.get("/jobs", params={"limit": 5, "order": "-scheduled_at"}).json()["items"]
    assert [j["job_id"] for j in newest] == ids[::-1]
    api.post(f"/jobs/{ids[0]}/cancel")
    found = api.get("/jobs", params={"status": "canceled,completed"}).json()
    assert [j["job_id"] for j in found["items"]] == [ids[0]] and found["total"] == 1
    assert api.get("/jobs", params={"type": "api.add"}).json()["total"] == 0


def test_bad_paging_order_and_status_are_422_naming_the_field(api: httpx.Client) -> None:
    assert_problem(api.get("/jobs", params={"order": "-nope"}), 422, field="order")
    assert_problem(api.get("/jobs", params={"status": "runnin"}), 422, field="status")
    assert_problem(api.get("/jobs", params={"limit": 0}), 422, field="limit")
    assert_problem(api.get("/jobs", params={"page": 0}), 422, field="page")
    assert_problem(api.get("/jobs", params={"page": "x"}), 422, field="page")
    assert_problem(api.get("/job-types", params={"limit": 100000}), 422, field="limit")


def test_bad_schedules_are_refused_and_change_nothing(api: httpx.Client) -> None:
    assert_problem(api.post("/jobs", json={"type": "no.such"}), 404, kind="job type", id="no.such")
    assert_problem(
        api.post("/jobs", json={"type": "api.add", "params": {"a": "x"}}), 422, field="params.a"
    )
    assert_problem(api.post("/jobs", json={"type": "api.add", "params": {}}), 422, field="params.a")
    assert_problem(
        api.post("/jobs", json={"type": "api.echo", "timeout_sec": -1}), 422, field="timeout_sec"
    )
    assert_problem(api.post("/jobs", json={"type": "api.echo", "bogus": 1}), 422, field="bogus")
    assert_problem(api.post("/jobs", json={}), 422, field="type")
    assert_problem(
        api.post("/jobs", content=b"{not json", headers={"content-type": "application/json"}),
        422,
    )
    big = {"type": "api.echo", "params": {"blob": "x" * (2 * 1024 * 1024)}}
    assert_problem(api.post("/jobs", json=big), 413)
    assert api.get("/jobs").json()["total"] == 0


def test_a_batch_schedules_every_job_in_one_request_in_order(api: httpx.Client) -> None:
    answer = api.post(
        "/jobs/batch",
        json={
            "type": "api.add",
            "params": [{"a": i, "b": 1} for i in range(300)],
            "max_retries": 4,
        },
    )
    assert answer.status_code == 201, answer.text
    body = answer.json()
    assert body["total"] == 300 and [j["params"]["a"] for j in body["items"]] == list(range(300))
    assert all(j["status"] == "waiting" and j["max_retries"] == 4 for j in body["items"])
    assert set(body["items"][0]) == {f.name for f in dataclasses.fields(Job)}
    # The server's workers may have claimed it since: the fields a claim leaves alone.
    kept = ("job_id", "type", "params", "scheduled_at_ms", "max_retries", "queue", "labels")
    stored = api.get(f"/jobs/{body['items'][7]['job_id']}").json()
    assert {k: stored[k] for k in kept} == {k: body["items"][7][k] for k in kept}
    assert api.get("/jobs").json()["total"] == 300


def test_bad_batches_are_refused_and_change_nothing(api: httpx.Client) -> None:
    def batch(**body: object) -> httpx.Response:
        return api.post("/jobs/batch", json=body)

    assert_problem(batch(type="no.such", params=[{}]), 404, kind="job type", id="no.such")
    # The third params is wrong: named by its index, and the two before are not stored.
    bad = [{"a": 1, "b": 2}, {"a": 2, "b": 3}, {"a": "x", "b": 4}]
    assert_problem(batch(type="api.add", params=bad), 422, field="params[2].a")
    surrogate = b'{"type": "api.echo", "params": ["ok", "\\ud800"]}'  # JSON's escape
    answer = api.post(
        "/jobs/batch", content=surrogate, headers={"content-type": "application/json"}
    )
    assert_problem(answer, 422)
    assert_problem(batch(type="api.echo", params=[1], timeout_sec=-1), 422, field="timeout_sec")
    assert_problem(batch(type="api.echo", params=[1], name="n"), 422, field="name")
    assert_problem(batch(type="api.echo", params=[1], idempotency_key="k"), 422)
    assert_problem(batch(type="api.echo", params={"not": "a list"}), 422, field="params")
    too_many = [None] * (defaults.MAX_BATCH_JOBS + 1)
    assert_problem(batch(type="api.echo", params=too_many), 422, field="params")
    assert_problem(batch(type="api.echo", params=["x" * 1024] * 2048), 413)
    assert api.get("/jobs").json()["total"] == 0
    # An empty batch stores nothing and says so.
    empty = batch(type="api.echo", params=[])
    assert empty.status_code == 201 and empty.json() == {"items": [], "total": 0}


def test_cancel_suspend_resume_delete_and_illegal_transitions(api: httpx.Client) -> None:
    job_id = schedule(api, delay_sec=3600)["job_id"]
    suspended = api.post(f"/jobs/{job_id}/suspend")
    assert suspended.status_code == 200 and suspended.json()["status"] == "suspended"
    assert api.post(f"/jobs/{job_id}/resume").json()["status"] == "waiting"
    assert_problem(
        api.post(f"/jobs/{job_id}/resume"),
        409,
        job_id=job_id,
        current="waiting",
        requested="resuming",
    )
    assert api.post(f"/jobs/{job_id}/cancel").json()["status"] == "canceled"
    assert_problem(api.post(f"/jobs/{job_id}/cancel"), 409, current="canceled")
    deleted = api.delete(f"/jobs/{job_id}")
    assert deleted.status_code == 200 and deleted.json()["job_id"] == job_id
    assert_problem(api.get(f"/jobs/{job_id}"), 404, kind="job", id=job_id)
    assert_problem(api.get(f"/jobs/{job_id}/events"), 404)
    assert_problem(api.delete(f"/jobs/{job_id}"), 404)


def test_a_running_job_is_suspended_resumed_and_canceled_through_its_worker(
    api: httpx.Client,
) -> None:
    job_id = str(schedule(api, "api.sleep", params={"sec": 60})["job_id"])
    wait_status(api, job_id, {"running"})
    assert_problem(api.delete(f"/jobs/{job_id}"), 409, current="running")
    assert api.post(f"/jobs/{job_id}/suspend").json()["status"] in ("suspending", "suspended")
    wait_status(api, job_id, {"suspended"})
    api.post(f"/jobs/{job_id}/resume")
    wait_status(api, job_id, {"running"})
    assert api.post(f"/jobs/{job_id}/cancel").json()["status"] in ("canceling", "canceled")
    assert wait_status(api, job_id, {"canceled"})["finished_at_ms"] is not None


def test_job_types_and_groups(api: httpx.Client) -> None:
    types = api.get("/job-types", params={"limit": 1000}).json()
    ids = [t["type_id"] for t in types["items"]]
    assert {"api.echo", "api.add", "api.sleep"} <= set(ids) and ids == sorted(ids)
    assert types["total"] == len(ids) and types["page"] == 1
    add = api.get("/job-types/api.add").json()
    assert add["group_name"] == "api" and add["queue"] == "maintenance"
    assert add["params_schema"]["required"] == ["a"]
    assert api.get("/job-types/api.sleep").json()["suspendable"] is True
    one = api.get("/job-types", params={"page": 2, "limit": 1}).json()
    assert [t["type_id"] for t in one["items"]] == ids[1:2]
    assert_problem(api.get("/job-types/no.such"), 404, kind="job type", id="no.such")
    groups = api.get("/job-groups").json()
    assert "api" in [g["name"] for g in groups["items"]]
    assert api.get("/job-groups/api").json()["queue_name"] == "maintenance"
    assert_problem(api.get("/job-groups/nope"), 404, kind="job group")


def test_requests_without_a_valid_token_are_401(server: object, api: httpx.Client) -> None:
    url = str(api.base_url)
    assert_problem(httpx.get(f"{url}/jobs"), 401)
    bad = httpx.get(f"{url}/jobs", headers={"Authorization": "Bearer hr_not-a-token"})
    assert bad.headers["www-authenticate"] == "Bearer"
    assert_problem(bad, 401)
    assert_problem(httpx.get(f"{url}/jobs", headers={"Authorization": "Basic abc"}), 401)
    assert httpx.get(f"{url}/healthz").json()["status"] == "ok"
