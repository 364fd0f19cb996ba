"""Pipeline (Jet) jobs through a real server process: the endpoints, the remote client's
Jet, the long-poll wait, reasons, the pipeline body limit and ``headrace submit``.
"""

from __future__ import annotations

import base64
import os
import pickle
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import cloudpickle
import httpx
import pytest
from server_process import RunningServer, Tenant

from headrace import errors
from headrace.client.remote import Client
from headrace.jet.job import JobConfig, JobStatus, ProcessingGuarantee
from headrace.jet.pipeline import Pipeline, StreamSource, counting
from headrace.model.status import Status

HERE = Path(__file__).parent
EXACTLY = ProcessingGuarantee.EXACTLY_ONCE
PROBLEM = "application/problem+json"


def pickled(value: object) -> str:
    return base64.b64encode(cloudpickle.dumps(value)).decode()


def word_count() -> Pipeline:
    p = Pipeline.create()
    p.read_from(Pipeline.from_list("lines", ["a b a", "b c", "a"])) \
        .flat_map(lambda line: line.split()) \
        .group_by(lambda w: w) \
        .aggregate(counting()) \
        .write_to(Pipeline.to_map("counts"))  # fmt: skip
    return p


def stream_copy(stream: str, sink: str) -> Pipeline:
    p = Pipeline.create()
    p.read_from(StreamSource(stream)).map(lambda n: n).write_to(Pipeline.to_list(sink))
    return p


def wait_for(predicate: Callable[[], bool], what: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.02)


def problem(answer: httpx.Response, status: int, **fields: object) -> dict[str, Any]:
    assert answer.status_code == status, answer.text
    assert answer.headers["content-type"] == PROBLEM
    body: dict[str, Any] = answer.json()
    for name, value in fields.items():
        assert body.get(name) == value, body
    return body


@pytest.fixture
def remote(tenant: Callable[[], Tenant]) -> Iterator[Client]:
    t = tenant()
    with Client(t.url, token=t.tokens["operator"]) as client:
        yield client


def test_submit_then_find_observe_and_read_the_output_over_http(api: httpx.Client) -> None:
    config = {"processing_guarantee": "exactly_once", "snapshot_interval_millis": 500}
    answer = api.post("/pipeline-jobs", json={"pipeline": pickled(word_count()), "name": "wc",
                                          "config": config})  # fmt: skip
    assert answer.status_code == 201, answer.text
    job = answer.json()
    assert job["type"] == "headrace.pipeline" and job["name"] == "wc"
    assert job["params"]["config"]["snapshot_interval_ms"] == 500
    done = api.get(f"/jobs/{job['job_id']}/wait", params={"timeout": 30, "suspended_ends": False})
    assert done.json()["status"] == "completed", done.text
    assert api.get("/pipeline-jobs/by-name/wc").json()["job_id"] == job["job_id"]
    named = api.get("/pipeline-jobs", params={"name": "wc"}).json()
    assert [j["job_id"] for j in named["items"]] == [job["job_id"]] and named["total"] == 1
    status = api.get(f"/pipeline-jobs/{job['job_id']}/status").json()
    assert status == {"job_id": job["job_id"], "status": "completed", "jet_status": "COMPLETED",
                      "reason": "completed"}  # fmt: skip
    metrics = api.get(f"/pipeline-jobs/{job['job_id']}/metrics").json()
    assert metrics["received_count"] == 3 and metrics["emitted_count"] == 3
    assert any(stage["kind"] == "sink" for stage in metrics["stages"].values())
    runs = api.get(f"/pipeline-jobs/{job['job_id']}/runs").json()
    assert runs["total"] == 1 and runs["items"][0]["status"] == "completed"
    assert runs["items"][0]["metrics"]["emitted_count"] == 3
    counts = {e["key"]: e["value"] for e in api.get("/maps/counts").json()["items"]}
    assert counts == {"a": 3, "b": 2, "c": 1}
    echo = api.post("/jobs", json={"type": "api.echo"}).json()
    problem(api.get(f"/pipeline-jobs/{echo['job_id']}"), 404, kind="pipeline job")
    problem(api.get("/pipeline-jobs/by-name/nothing"), 404)


def test_bad_submissions_are_422_naming_the_field_and_change_nothing(api: httpx.Client) -> None:
    good = pickled(word_count())

    def submit(**body: object) -> httpx.Response:
        return api.post("/pipeline-jobs", json={"pipeline": good, **body})

    problem(submit(pipeline="%%% not base64"), 422, field="pipeline")
    body = problem(submit(pipeline=pickled(42)), 422, field="pipeline")
    assert "expected a pickled Pipeline, got int" in body["detail"]
    # A function whose module the server cannot import (pickled by reference).
    missing_module = base64.b64encode(b"cno_such_module_on_the_server\nthing\n.").decode()
    body = problem(submit(pipeline=missing_module), 422, field="pipeline")
    assert "ModuleNotFoundError" in body["detail"]
    problem(submit(config={"colour": "blue"}), 422, field="config.colour")
    problem(submit(config={"snapshot_interval_ms": 0}), 422, field="config.snapshot_interval_ms")
    problem(submit(config={"initial_snapshot_name": "nope"}), 422, field="initial_snapshot_name")
    problem(submit(local_parallelism=0), 422, field="local_parallelism")
    problem(submit(colour="blue"), 422, field="colour")
    problem(submit(if_absent=True), 422, field="config.name")
    dangling = Pipeline.create()
    source = dangling.read_from(Pipeline.from_list("nums", [1]))
    source.write_to(Pipeline.to_list("copy"))
    source.map(lambda x: x)  # a branch written nowhere
    body = problem(submit(pipeline=pickled(dangling)), 422,
                   type="urn:headrace:problem:pipeline-definition")  # fmt: skip
    assert body["stage"].startswith("map")
    assert api.get("/pipeline-jobs").json()["total"] == 0
    assert api.get("/jobs").json()["total"] == 0


def test_a_repeated_key_or_if_absent_answers_the_existing_job(api: httpx.Client) -> None:
    first = api.post("/pipeline-jobs", json={"pipeline": pickled(word_count()),
                                         "idempotency_key": "wc-1"})  # fmt: skip
    again = api.post("/pipeline-jobs", json={"pipeline": pickled(word_count()),
                                         "idempotency_key": "wc-1"})  # fmt: skip
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json()["job_id"] == first.json()["job_id"]
    assert api.put("/streams/live-in").status_code == 200
    live = pickled(stream_copy("live-in", "live-out"))
    created = api.post("/pipeline-jobs", json={"pipeline": live, "name": "live"})
    assert created.status_code == 201, created.text
    problem(api.post("/pipeline-jobs", json={"pipeline": live, "name": "live"}), 409,
            type="urn:headrace:problem:job-already-exists")  # fmt: skip
    found = api.post("/pipeline-jobs", json={"pipeline": live, "name": "live", "if_absent": True})
    assert found.status_code == 200 and found.json()["job_id"] == created.json()["job_id"]
    job_id = created.json()["job_id"]
    canceled = api.post(f"/pipeline-jobs/{job_id}/cancel", json={"force": True})
    assert canceled.status_code == 200 and canceled.json()["status"] == "canceled"
    problem(api.post(f"/pipeline-jobs/{job_id}/restart"), 409, job_id=job_id, current="canceled")
    fresh = api.post("/pipeline-jobs", json={"pipeline": live, "name": "live", "if_absent": True})
    assert fresh.status_code == 201 and fresh.json()["job_id"] != job_id
    api.post(f"/pipeline-jobs/{fresh.json()['job_id']}/cancel", json={"force": True})


def test_the_remote_clients_jet_runs_and_controls_a_streaming_job(remote: Client) -> None:
    stream = remote.get_stream("clicks", partitions=1)
    jet = remote.get_jet()
    config = JobConfig(name="copy", processing_guarantee=EXACTLY, snapshot_interval_ms=100)
    job = jet.submit(stream_copy("clicks", "copied"), config)
    wait_for(lambda: job.get_status() is JobStatus.RUNNING, "running")
    assert jet.new_job_if_absent(word_count(), JobConfig(name="copy")) == job
    with pytest.raises(errors.JobAlreadyExists):
        jet.submit(word_count(), JobConfig(name="copy"))
    stream.publish_all(range(100))
    wait_for(lambda: job.get_metrics().received_count >= 100, "first hundred read")
    job.export_snapshot("copy-1")
    job.suspend()
    wait_for(lambda: job.get_status() is JobStatus.SUSPENDED, "suspended")
    assert job.get_suspension_cause() == "suspended by user"
    with pytest.raises(errors.IllegalJobState) as illegal:
        job.restart()
    assert illegal.value.current == "suspended" and "running" in str(illegal.value)
    job.resume()
    wait_for(lambda: job.get_status() is JobStatus.RUNNING, "running again")
    assert "worker" in job.get_status_reason() or job.get_status_reason() == "running"
    stream.publish_all(range(100, 200))
    stream.close()
    job.join(timeout=60)
    copied = Counter(remote.get_list("copied"))
    assert set(copied) == set(range(200)) and max(copied.values()) == 1
    assert job.get_metrics().emitted_count > 0 and remote.pipelines.runs(job.id)
    assert jet.get_job_by_name("copy") == job and job in jet.get_jobs()
    assert job.get_config().processing_guarantee is EXACTLY
    resumed = JobConfig(name="from-copy-1", processing_guarantee=EXACTLY)
    resumed.initial_snapshot_name = "copy-1"
    jet.submit(stream_copy("clicks", "again"), resumed).join(timeout=60)
    assert sorted(remote.get_list("again")) == list(range(100, 200))


def test_failures_through_the_remote_client(remote: Client) -> None:
    p = Pipeline.create()
    p.read_from(Pipeline.from_list("nums", [1, 2, 0, 4])).map(lambda x: 10 // x).write_to(
        Pipeline.to_list("never")
    )
    job = remote.get_jet().submit(p)
    with pytest.raises(errors.JobFailed) as failed:
        job.join(timeout=60)
    assert "ZeroDivisionError" in str(failed.value.cause) and job.get_status() is JobStatus.FAILED
    with pytest.raises(errors.JobFailed):
        remote.run(p)
    metrics = remote.run(word_count(), local_parallelism=2)
    assert (metrics.received_count, metrics.emitted_count) == (3, 3)
    with pytest.raises(errors.PipelineDefinitionError) as definition:
        remote.run(Pipeline.create())
    assert definition.value.stage
    with pytest.raises(errors.InvalidInput) as unpicklable:
        remote.pipelines.submit("not a pipeline")  # type: ignore[arg-type]
    assert unpicklable.value.field == "pipeline"
    with pytest.raises(errors.NotFound):
        remote.get_jet().get_job("6a1f1c1e-0000-4000-8000-000000000000")
    assert remote.get_jet().get_job_by_name("nothing") is None


def test_long_poll_wait_and_reasons(tenant: Callable[[], Tenant]) -> None:
    t = tenant()
    api = t.http()
    with Client(t.url, token=t.tokens["operator"]) as remote:
        check_waits_and_reasons(api, remote)


def check_waits_and_reasons(api: httpx.Client, remote: Client) -> None:
    later = api.post("/jobs", json={"type": "api.echo", "delay_sec": 3600}).json()
    held = api.get(f"/jobs/{later['job_id']}/wait", params={"timeout": 0.2})
    assert held.status_code == 200 and held.json()["status"] == "waiting"
    problem(api.get(f"/jobs/{later['job_id']}/wait", params={"timeout": 31}), 422, field="timeout")
    suspended = api.post(f"/jobs/{later['job_id']}/suspend", json={"reason": "maintenance"})
    assert (
        suspended.json()["status"] == "suspended" and suspended.json()["details"] == "maintenance"
    )
    ended = api.get(f"/jobs/{later['job_id']}/wait", params={"timeout": 5})
    assert ended.json()["status"] == "suspended"
    api.post(f"/jobs/{later['job_id']}/resume", json={"reason": "window over"})
    problem(api.post(f"/jobs/{later['job_id']}/cancel", json={"reason": ""}), 422, field="reason")
    problem(api.post(f"/jobs/{later['job_id']}/cancel", json={"why": "x"}), 422, field="why")
    remote.jobs.cancel(later["job_id"], reason="not needed any more")
    reasons = [e["reason"] for e in api.get(f"/jobs/{later['job_id']}/events").json()["items"]]
    assert reasons[-1] == "not needed any more"
    assert reasons.index("maintenance") < reasons.index("window over") < len(reasons) - 1
    quick = api.post("/jobs", json={"type": "api.echo", "params": 1}).json()
    done = api.get(f"/jobs/{quick['job_id']}/wait", params={"timeout": 20}).json()
    assert done["status"] == "completed" and done["result"] == 1
    assert remote.jobs.wait(quick["job_id"], timeout=5).status is Status.COMPLETED


def test_a_pipeline_body_may_exceed_the_job_body_limit(api: httpx.Client) -> None:
    items = [f"{i:05d}-" + "x" * 1000 for i in range(1500)]  # about 1.5 MB
    problem(api.post("/jobs", json={"type": "api.echo", "params": items}), 413)
    p = Pipeline.create()
    p.read_from(Pipeline.from_list("big-in", items)).write_to(Pipeline.to_list("big-out"))
    answer = api.post("/pipeline-jobs", json={"pipeline": pickled(p)})
    assert answer.status_code == 201, answer.text
    done = api.get(f"/jobs/{answer.json()['job_id']}/wait", params={"timeout": 30}).json()
    assert done["status"] == "completed"
    assert api.get("/lists/big-out", params={"limit": 1}).json()["total"] == 1500


def submit(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("HEADRACE_")}
    return subprocess.run(
        [sys.executable, "-m", "headrace", "submit", *args],
        env=env, cwd=cwd, capture_output=True, text=True, timeout=180,
    )  # fmt: skip


def test_headrace_submit_runs_seed_001_against_the_server(
    server: RunningServer, tenant: Callable[[], Tenant], tmp_path: Path
) -> None:
    t = tenant()
    script = HERE / "seed_001_remote.py"
    done = submit(str(script), "--server", t.url, "--token", t.tokens["operator"], "--x", "y")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "client: headrace.client.remote" in done.stdout
    assert "seed 001 OK --x y" in done.stdout
    with Client(t.url, token=t.tokens["viewer"]) as viewer:
        assert viewer.get_jet().get_job_by_name("recovered-job") is not None
        assert sorted(viewer.get_list("seen")) == list(range(20))


def test_headrace_submit_exit_codes_and_the_embedded_default(tmp_path: Path) -> None:
    failing = tmp_path / "failing.py"
    failing.write_text("raise SystemExit(3)\n")
    assert submit(str(failing)).returncode == 3
    bad = submit(str(failing), "--server", "localhost:8000")
    assert bad.returncode == 2 and "--server" in bad.stderr
    local = tmp_path / "local.py"
    local.write_text(
        "from headrace import Client\n"
        "from headrace.jet.pipeline import Pipeline\n"
        "if __name__ == '__main__':\n"
        "    client = Client()\n"
        "    p = Pipeline.create()\n"
        "    p.read_from(Pipeline.from_list('in', [1, 2])).map(lambda x: x * 10)"
        ".write_to(Pipeline.to_list('out'))\n"
        "    client.run(p)\n"
        "    print(type(client).__module__, sorted(client.get_list('out')))\n"
    )
    done = submit(str(local), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "headrace.client.embedded [10, 20]" in done.stdout
    assert (tmp_path / ".headrace" / "headrace.db").exists()


def test_pickle_payloads_are_only_unpickled_for_writers(tenant: Callable[[], Tenant]) -> None:
    t = tenant()
    marker = t.url  # any pickle that would run code: a viewer's must not be unpickled
    payload = base64.b64encode(pickle.dumps(marker)).decode()
    answer = t.http("viewer").post("/pipeline-jobs", json={"pipeline": payload})
    problem(answer, 403)
    stranger = httpx.post(f"{t.url}/pipeline-jobs", json={"pipeline": payload})
    problem(stranger, 401)


def test_client_is_remote_when_headrace_server_is_set(
    tenant: Callable[[], Tenant], monkeypatch: pytest.MonkeyPatch
) -> None:
    import headrace

    t = tenant()
    monkeypatch.setenv("HEADRACE_SERVER", t.url)
    monkeypatch.setenv("HEADRACE_TOKEN", t.tokens["viewer"])
    with headrace.Client() as client:
        assert isinstance(client, Client) and client.whoami()["role"] == "viewer"
    monkeypatch.setenv("HEADRACE_SERVER", "localhost:8000")
    with pytest.raises(errors.InvalidInput) as bad:
        headrace.Client()
    assert bad.value.field == "HEADRACE_SERVER"
