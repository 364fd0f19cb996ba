"""The reads the dashboard adds: overview, job search, data listing, plan, snapshots, reason.

Each is confined to the token's tenant; bad input gets a 422 naming the field.
"""

from __future__ import annotations

import base64
import re
import time
from collections.abc import Callable
from pathlib import Path

import cloudpickle
import httpx
from server_process import Tenant, wait_status

from headrace.api import dashboard
from headrace.jet.pipeline import Pipeline


def problem(answer: httpx.Response, status: int, field: str | None = None) -> None:
    assert answer.status_code == status, answer.text
    if field is not None:
        assert answer.json()["field"] == field, answer.text


def test_overview_counts_the_tenants_jobs_and_its_last_hour(tenant: Callable[[], Tenant]) -> None:
    a, b = tenant().http(), tenant().http()
    done = [
        a.post("/jobs", json={"type": "api.echo", "params": i}).json()["job_id"] for i in range(3)
    ]
    later = a.post("/jobs", json={"type": "api.echo", "delay_sec": 3600}).json()["job_id"]
    for job_id in done:
        wait_status(a, job_id, {"completed"})
    seen = a.get("/overview").json()
    assert seen["counts"]["completed"] == 3 and seen["counts"]["waiting"] == 1
    assert seen["total"] == 4 and set(seen["counts"]) >= {"running", "failed", "suspended"}
    minutes = seen["throughput"]
    assert len(minutes) == 60 and sum(m["finished"] for m in minutes) == 3
    assert sum(m["failed"] for m in minutes) == 0
    assert [m["at_ms"] for m in minutes] == sorted(m["at_ms"] for m in minutes)
    assert minutes[-1]["at_ms"] <= seen["at_ms"] < minutes[-1]["at_ms"] + 60_000
    waiting_since = a.get(f"/jobs/{later}").json()["scheduled_at_ms"]
    assert seen["oldest_waiting_ms"] == {"maintenance": waiting_since}
    assert seen["stuck"] == []
    other = b.get("/overview").json()
    assert other["total"] == 0 and sum(m["finished"] for m in other["throughput"]) == 0
    assert other["oldest_waiting_ms"] == {}


def test_job_search_filters_by_text_status_queue_and_time(tenant: Callable[[], Tenant]) -> None:
    a, b = tenant().http(), tenant().http()
    start = int(time.time() * 1000)
    needle = a.post("/jobs", json={"type": "api.echo", "name": "Find-Me_1", "delay_sec": 3600})
    a.post("/jobs", json={"type": "api.echo", "name": "other", "delay_sec": 3600})
    a.post("/jobs", json={"type": "api.sleep", "name": "find-me-too", "delay_sec": 3600})
    needle_id = needle.json()["job_id"]

    def names(**params: object) -> list[str]:
        answer = a.get("/job-search", params={"order": "-scheduled_at", **params})
        assert answer.status_code == 200, answer.text
        return [j["name"] for j in answer.json()["items"]]

    assert names(q="find-me") == ["find-me-too", "Find-Me_1"]
    assert names(q="me_") == ["Find-Me_1"]  # _ is a character here, not a wildcard
    assert names(q="%") == []
    assert names(q="api.sleep") == ["find-me-too"]  # the type matches too
    assert names(q="find", queue="maintenance") == ["Find-Me_1"]
    assert names(q="find", type="api.echo", status="waiting") == ["Find-Me_1"]
    assert names(q="find", status="completed") == []
    assert names(since_ms=start, until_ms=start + 3_600_000, order="scheduled_at")[0] == "Find-Me_1"
    assert names(until_ms=start) == []
    paged = a.get("/job-search", params={"limit": 2, "page": 2}).json()
    assert paged["total"] == 3 and len(paged["items"]) == 1
    assert b.get("/job-search", params={"q": "find"}).json()["total"] == 0
    assert names(since_ms=start, until_ms=start) == []  # an empty range finds nothing
    problem(a.get("/job-search", params={"status": "sleeping"}), 422, "status")
    problem(a.get("/job-search", params={"order": "-colour"}), 422, "order")
    problem(a.get("/job-search", params={"order": "name"}), 422, "order")
    problem(a.get("/job-search", params={"limit": 0}), 422, "limit")
    assert a.get(f"/jobs/{needle_id}").json()["name"] == "Find-Me_1"  # nothing changed


def test_job_search_filters_by_tag_and_project(tenant: Callable[[], Tenant]) -> None:
    a, b = tenant().http(), tenant().http()
    assert a.post("/projects", json={"name": "billing"}).status_code == 201
    for name, tags, project in (
        ("eu", ["team/eu", "Nightly"], "billing"),
        ("us", ["team/us"], "default"),
        ("team", ["team"], "default"),
        ("teams", ["teams", 'odd",quote'], "billing"),
        ("none", [], "default"),
    ):
        body = {"type": "api.echo", "name": name, "tags": tags, "project": project}
        answer = a.post("/job-definitions", json=body)
        assert answer.status_code == 201, answer.text

    def names(**params: object) -> list[str]:
        answer = a.get("/job-search", params={"order": "scheduled_at", **params})
        assert answer.status_code == 200, answer.text
        return [j["name"] for j in answer.json()["items"]]

    assert names(tag="team") == ["eu", "us", "team"]  # its children, not "teams"
    assert names(tag="team/eu") == ["eu"]
    assert names(tag="Nightly") == ["eu"] and names(tag="nightly") == []  # case counts
    assert names(tag="quote") == [] and names(tag='odd",quote') == ["teams"]
    assert names(tag="eu") == []  # a part of a tag is not the tag
    assert names(project="billing") == ["eu", "teams"]
    assert names(project="billing", tag="team") == ["eu"]
    assert names(project="nowhere") == []
    assert b.get("/job-search", params={"tag": "team"}).json()["total"] == 0


def test_data_lists_the_tenants_structures_with_their_sizes(tenant: Callable[[], Tenant]) -> None:
    a, b = tenant().http(), tenant().http()
    assert a.get("/data").json() == {"items": [], "total": 0}
    a.post("/lists/nums", json={"items": [1, 2, 3]})
    a.put("/maps/colours/sky", json={"value": "blue"})
    a.put("/maps/colours/grass", json={"value": "green"})
    a.put("/streams/clicks?partitions=3")
    a.post("/streams/clicks/entries", json={"entries": [{"value": i, "key": i} for i in range(7)]})
    a.post("/streams/clicks/close")
    found = {d["name"]: d for d in a.get("/data").json()["items"]}
    assert found["nums"] == {"kind": "list", "name": "nums", "size": 3, "partitions": 0,
                             "end_offsets": [], "closed": False}  # fmt: skip
    assert found["colours"]["kind"] == "map" and found["colours"]["size"] == 2
    clicks = found["clicks"]
    assert clicks["kind"] == "stream" and clicks["partitions"] == 3 and clicks["closed"]
    assert sum(clicks["end_offsets"]) == clicks["size"] == 7
    assert clicks["end_offsets"] == a.get("/streams/clicks/state").json()["end_offsets"]
    assert b.get("/data").json()["total"] == 0


def test_plan_snapshots_and_reason_of_a_pipeline_job(tenant: Callable[[], Tenant]) -> None:
    t = tenant()
    a, b = t.http(), tenant().http()
    p = Pipeline.create()
    p.read_from(Pipeline.from_list("in", [1, 2, 3])).map(str).filter(bool) \
        .rebalance().map(len).write_to(Pipeline.to_list("out"))  # fmt: skip
    body = {"pipeline": base64.b64encode(cloudpickle.dumps(p)).decode(), "local_parallelism": 2}
    job_id = a.post("/pipeline-jobs", json=body).json()["job_id"]
    plan = a.get(f"/jobs/{job_id}/plan").json()
    assert plan["local_parallelism"] == 2
    assert [v["kinds"] for v in plan["vertices"]] == [
        ["source", "map", "filter"],
        ["rebalance", "map", "sink"],
    ]
    assert all(v["parallelism"] == 2 and not v["streaming"] for v in plan["vertices"])
    assert plan["edges"] == [{"src": 0, "dst": 1, "port": 0, "routing": "round_robin",
                              "combine": None}]  # fmt: skip
    assert a.get(f"/jobs/{job_id}/wait", params={"timeout": 20}).json()["status"] == "completed"
    assert a.get(f"/jobs/{job_id}/snapshots").json()["items"] == []
    assert a.get(f"/jobs/{job_id}/reason").json() == {
        "job_id": job_id,
        "status": "completed",
        "reason": "completed",
    }
    task = a.post("/jobs", json={"type": "api.echo", "delay_sec": 3600}).json()["job_id"]
    problem(a.get(f"/jobs/{task}/plan"), 404)  # a task job has no plan
    assert "scheduled to start" in a.get(f"/jobs/{task}/reason").json()["reason"]
    for path in ("plan", "snapshots", "reason"):
        problem(b.get(f"/jobs/{job_id}/{path}"), 404)
    problem(a.get("/jobs/not-a-uuid/snapshots"), 422)  # the path states a UUID


def test_the_plan_of_a_job_pinned_to_a_published_pipeline_follows_its_pin(
    tenant: Callable[[], Tenant],
) -> None:
    a = tenant().http()
    one, two = Pipeline.create(), Pipeline.create()
    one.read_from(Pipeline.from_list("in", [1])).write_to(Pipeline.to_list("out"))
    two.read_from(Pipeline.from_list("in", [1])).rebalance().write_to(Pipeline.to_list("out"))
    for p in (one, two):
        body = {"pipeline": base64.b64encode(cloudpickle.dumps(p)).decode(), "name": "pinned"}
        assert a.post("/pipelines", json=body).status_code == 201
    job = a.post("/job-definitions", json={"name": "j", "pipeline": "pinned", "version": 1})
    job_id = job.json()["job_id"]
    plan = a.get(f"/jobs/{job_id}/plan").json()
    assert plan["error"] is None and [v["kinds"] for v in plan["vertices"]] == [["source", "sink"]]
    assert a.post(f"/jobs/{job_id}/upgrade").json()["pipeline_version"] == 2
    plan = a.get(f"/jobs/{job_id}/plan").json()
    assert [v["kinds"] for v in plan["vertices"]] == [["source"], ["rebalance", "sink"]]


def test_a_log_tail_reads_the_last_lines_then_only_new_ones(
    tenant: Callable[[], Tenant],
) -> None:
    a, b = tenant().http(), tenant().http()
    job_id = a.post("/jobs", json={"type": "api.chatty", "params": {"lines": 25}}).json()["job_id"]
    wait_status(a, job_id, {"completed"})
    every = a.get(f"/jobs/{job_id}/logs").json()["items"]
    tail = a.get(f"/jobs/{job_id}/log-tail", params={"limit": 10}).json()
    assert tail["total"] == len(every) >= 25
    assert [x["message"] for x in tail["items"]] == [x["message"] for x in every[-10:]]
    ids = [x["log_id"] for x in tail["items"]]
    assert ids == sorted(ids)
    start = a.get(f"/jobs/{job_id}/log-tail", params={"limit": 25}).json()["items"]
    after = start[4]["log_id"]
    more = a.get(f"/jobs/{job_id}/log-tail", params={"after": after, "limit": 3}).json()
    assert [x["message"] for x in more["items"]] == [x["message"] for x in start[5:8]]
    end = tail["items"][-1]["log_id"]
    assert a.get(f"/jobs/{job_id}/log-tail", params={"after": end}).json()["items"] == []
    problem(a.get(f"/jobs/{job_id}/log-tail", params={"limit": 0}), 422, "limit")
    problem(a.get(f"/jobs/{job_id}/log-tail", params={"after": -1}), 422, "after")
    problem(b.get(f"/jobs/{job_id}/log-tail"), 404)


def test_the_dashboard_is_served_with_a_policy_that_keeps_it_offline(
    tenant: Callable[[], Tenant],
) -> None:
    url = tenant().url
    page = httpx.get(f"{url}/")
    assert page.status_code == 200 and '<script type="module" src="/ui/js/app.js">' in page.text
    # boot.js, a classic script run before app.js, says so if the modules fail to load.
    assert page.text.index('<script src="/ui/js/boot.js">') < page.text.index("/ui/js/app.js")
    policy = page.headers["content-security-policy"]
    assert "default-src 'self'" in policy and "connect-src 'self'" in policy
    for asset in ("/ui/js/boot.js", "/ui/js/app.js", "/ui/style.css", "/ui/vendor/uplot.esm.js",
                  "/ui/vendor/dagre.esm.js", "/ui/vendor/preact-htm.module.js"):  # fmt: skip
        answer = httpx.get(url + asset)
        assert answer.status_code == 200 and len(answer.content) > 100, asset
    # Every module the pages import comes from this server: nothing from the network.
    static = Path(dashboard.__file__).parent.parent / "web" / "static"
    imported = {
        (module.name, name)
        for module in (static / "js").glob("*.js")
        for name in re.findall(r'^import .* from "([^"]+)";$', module.read_text(), re.M)
    }
    assert ("app.js", "/ui/vendor/preact-htm.module.js") in imported
    assert [i for i in imported if not i[1].startswith("/ui/")] == []
    assert httpx.get(f"{url}/ui/vendor/nothing.js").status_code == 404
