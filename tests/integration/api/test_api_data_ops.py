"""Data structures, queues, workers, health, metrics and the dashboard over HTTP."""

from __future__ import annotations

from collections.abc import Callable

import httpx
from server_process import RunningServer, Tenant, wait_status


def test_lists(api: httpx.Client) -> None:
    assert api.get("/lists/l").status_code == 404
    assert api.post("/lists/l", json={"items": [1, "two", {"three": 3}]}).json()["total"] == 3
    api.post("/lists/l", json={"items": [[4]]})
    whole = api.get("/lists/l").json()
    assert whole["items"] == [1, "two", {"three": 3}, [4]] and whole["total"] == 4
    assert api.get("/lists/l", params={"offset": 1, "limit": 2}).json()["items"] == [
        "two",
        {"three": 3},
    ]
    assert api.delete("/lists/l").json()["total"] == 0
    assert api.get("/lists/l").json()["items"] == []


def test_maps(api: httpx.Client) -> None:
    assert api.get("/maps/m").status_code == 404
    assert api.put("/maps/m/a", json={"value": {"x": 1}}).json() == {"key": "a", "value": {"x": 1}}
    api.put("/maps/m/b", json={"value": 2})
    api.put("/maps/m/a", json={"value": 3})
    entries = api.get("/maps/m").json()
    assert sorted((e["key"], e["value"]) for e in entries["items"]) == [("a", 3), ("b", 2)]
    assert api.get("/maps/m/b").json()["value"] == 2
    assert api.get("/maps/m/zz").json()["kind"] == "map key"
    assert api.delete("/maps/m/b").json()["value"] == 2
    assert api.get("/maps/m/b").status_code == 404
    assert api.delete("/maps/m").json()["total"] == 0
    assert api.get("/maps/m").json()["items"] == []


def test_streams(api: httpx.Client) -> None:
    assert api.get("/streams/s").status_code == 404
    landed = api.post("/streams/s", params={"partitions": 2}, json={"items": [1, 2, 3, 4]})
    assert sorted(landed.json()["offsets"]) == [[0, 0], [0, 1], [1, 0], [1, 1]]
    keyed = api.post("/streams/s", json={"items": ["k1", "k2"], "key": "user-7"}).json()
    assert len({p for p, _ in keyed["offsets"]}) == 1
    partition = keyed["offsets"][0][0]
    read = api.get("/streams/s", params={"partition": partition, "offset": 2}).json()
    assert read["partitions"] == 2 and read["closed"] is False
    assert [e["value"] for e in read["items"]] == ["k1", "k2"]
    assert [e["key"] for e in read["items"]] == ["user-7", "user-7"]
    assert read["next_offset"] == read["end_offset"] == 4
    bad = api.get("/streams/s", params={"partition": 5})
    assert bad.status_code == 422 and bad.json()["field"] == "partition"
    clash = api.post("/streams/s", params={"partitions": 3}, json={"items": [1]})
    assert clash.status_code == 409 and "2 partitions" in clash.json()["detail"]


def test_queues_workers_health_and_metrics(
    server: RunningServer, tenant: Callable[[], Tenant]
) -> None:
    owner = tenant()
    api = owner.http()
    job = api.post("/jobs", json={"type": "api.echo", "params": 1}).json()
    wait_status(api, job["job_id"], {"completed"})
    api.post("/jobs", json={"type": "api.echo", "delay_sec": 3600})
    queues = {q["name"]: q for q in api.get("/queues").json()["items"]}
    assert set(queues) >= {"compute", "maintenance", "download"}
    assert queues["maintenance"]["capacity"] == 5 and queues["maintenance"]["workers"] >= 1
    assert queues["maintenance"]["jobs"] == {"completed": 1, "waiting": 1}
    assert queues["maintenance"]["waiting"] == 1
    workers = api.get("/workers").json()["items"]
    assert any(w["alive"] and w["queues"]["maintenance"] == 5 for w in workers)
    one = next(w for w in workers if w["queues"].get("maintenance") == 5)
    assert one["capacity"] == sum(one["queues"].values()) and one["labels"] == []
    assert one["running"] == 0 and one["load"] == 0.0 and one["heartbeat_age_ms"] >= 0
    assert httpx.get(f"{server.url}/healthz").json()["store"] in ("sqlite", "postgresql")
    metrics = owner.http("admin").get("/metrics")
    assert metrics.headers["content-type"].startswith("text/plain")
    text = metrics.text
    assert 'headrace_jobs{queue="maintenance",status="completed",type="api.echo"} 1.0' in text
    assert 'headrace_jobs{queue="maintenance",status="waiting",type="api.echo"} 1.0' in text
    assert 'headrace_queue_depth{queue="maintenance"} 1.0' in text
    assert "headrace_worker_heartbeat_timestamp_seconds{" in text
    assert 'headrace_job_attempt_duration_seconds_count{status="completed",type="api.echo"}' in text
    assert 'headrace_http_requests_total{method="GET",route="/queues",status="200"}' in text
    # A job requiring a label no live worker offers says so (after the counts above).
    labelled = api.post("/jobs", json={"type": "api.echo", "labels": ["gpu"]}).json()
    assert labelled["labels"] == ["gpu"]
    reason = api.get(f"/jobs/{labelled['job_id']}/status").json()["reason"]
    assert reason.startswith("no live worker serving queue 'maintenance' offers the labels")
    bad = api.post("/jobs", json={"type": "api.echo", "labels": ["GPU"]})
    assert bad.status_code == 422 and "labels" in bad.text


def test_metrics_show_job_figures_only_to_an_admin_and_only_its_tenants(
    server: RunningServer, tenant: Callable[[], Tenant]
) -> None:
    owner, other = tenant(), tenant()
    job = owner.http().post("/jobs", json={"type": "api.echo", "params": 1}).json()
    wait_status(owner.http(), job["job_id"], {"completed"})
    anonymous = httpx.get(f"{server.url}/metrics")
    assert anonymous.status_code == 200
    assert "headrace_workers_alive" in anonymous.text
    assert "headrace_http_requests_total{" in anonymous.text
    for family in ("headrace_jobs", "headrace_queue_depth", "headrace_job_attempt_duration"):
        assert family not in anonymous.text, f"{family} shown without a token"
    # Another tenant's admin sees its own figures: none of the owner's jobs.
    seen = other.http("admin").get("/metrics").text
    assert "# TYPE headrace_jobs gauge" in seen
    assert 'type="api.echo"' not in seen
    for role in ("operator", "viewer"):
        plain = owner.http(role).get("/metrics")
        assert plain.status_code == 200 and "headrace_workers_alive" in plain.text
        assert "headrace_jobs" not in plain.text, f"job figures shown to a {role}"
    bad = httpx.get(f"{server.url}/metrics", headers={"Authorization": "Bearer hr_nope"})
    assert bad.status_code == 401


def test_dashboard_page(server: RunningServer) -> None:
    page = httpx.get(f"{server.url}/")
    assert page.status_code == 200 and "text/html" in page.headers["content-type"]
    assert "Headrace" in page.text and "/openapi.json" in page.text


def test_metrics_label_values_stay_in_a_closed_set(
    server: RunningServer, api: httpx.Client
) -> None:
    for i in range(30):
        api.request(f"JUNK{i}", "/jobs")
        api.get(f"/no/such/path/{i}")
        api.get(f"/jobs/{i}")
    text = httpx.get(f"{server.url}/metrics").text
    series = [line for line in text.splitlines() if line.startswith("headrace_http_requests")]
    assert not any("JUNK" in line or "/no/such" in line for line in series)
    assert any('method="other"' in line for line in series)
    assert any('route="/jobs/{job_id}"' in line for line in series)
