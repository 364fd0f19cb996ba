"""Job archives over HTTP against a real server process: media types, problems, tenancy."""

from __future__ import annotations

import base64
from collections.abc import Callable
from typing import Any

import cloudpickle
import httpx
from server_process import Tenant

from headrace.jet.pipeline import Pipeline

PROBLEM = "application/problem+json"


def problem(answer: httpx.Response, status: int, **fields: object) -> dict[str, Any]:
    assert answer.status_code == status, answer.text
    assert answer.headers["content-type"] == PROBLEM
    body: dict[str, Any] = answer.json()
    for name, value in fields.items():
        assert body.get(name) == value, body
    return body


def halve(x: int) -> float:
    return x / 2


def defined(http: httpx.Client) -> str:
    """A published pipeline and a job of it; the job's id."""
    p = Pipeline.create()
    p.read_from(Pipeline.from_list("nums")).map(halve).write_to(Pipeline.to_list("halves"))
    body = {"name": "halve", "pipeline": base64.b64encode(cloudpickle.dumps(p)).decode()}
    assert http.post("/pipelines", json=body).status_code == 201
    made = http.post(
        "/job-definitions", json={"name": "halving", "pipeline": "halve", "tags": ["x"]}
    )
    assert made.status_code == 201, made.text
    return str(made.json()["job_id"])


def test_export_answers_a_zip_and_import_takes_it_as_the_body(
    tenant: Callable[[], Tenant],
) -> None:
    source, target = tenant(), tenant()
    job_id = defined(source.http())
    exported = source.http("viewer").post("/job-definitions/export", json={"job_ids": [job_id]})
    assert exported.status_code == 200, exported.text
    assert exported.headers["content-type"] == "application/zip"
    assert "jobs.zip" in exported.headers["content-disposition"]

    sent = target.http().post(
        "/job-definitions/import",
        content=exported.content,
        headers={"content-type": "application/zip"},
        params={"parameters": "reset"},
    )
    assert sent.status_code == 201, sent.text
    (job,) = sent.json()["items"]
    assert job["name"] == "halving" and job["tags"] == ["x"] and job["job_id"] != job_id
    assert target.http().get(f"/pipelines/halve/commits/{job['pipeline_version']}").is_success


def test_bad_imports_are_problems_naming_the_entry_and_import_nothing(
    tenant: Callable[[], Tenant],
) -> None:
    t = tenant()
    http = t.http()
    archive = http.post("/job-definitions/export", json={"job_ids": [defined(http)]}).content
    zip_type = {"content-type": "application/zip"}
    body = problem(
        http.post("/job-definitions/import", content=b"PK\x03\x04 nope", headers=zip_type),
        422,
        type="urn:headrace:problem:invalid-archive",
        field="archive",
        entry="archive",
    )
    assert "no seal" in body["detail"]
    problem(
        http.post(
            "/job-definitions/import", content=archive, headers={"content-type": "text/plain"}
        ),
        422,
        entry="archive",
    )
    problem(
        http.post(
            "/job-definitions/import", content=archive, headers=zip_type, params={"offsets": "x"}
        ),
        422,
        field="offsets",
    )
    problem(
        http.post(
            "/job-definitions/import", content=archive, headers=zip_type, params={"project": "no"}
        ),
        404,
        kind="project",
    )
    problem(
        t.http("viewer").post("/job-definitions/import", content=archive, headers=zip_type), 403
    )
    assert len(http.get("/job-definitions").json()["items"]) == 1
    assert [c["version"] for c in http.get("/pipelines/halve/commits").json()["items"]] == [1]


def test_another_tenants_jobs_are_not_found(tenant: Callable[[], Tenant]) -> None:
    owner, stranger = tenant(), tenant()
    job_id = defined(owner.http())
    problem(
        stranger.http().post("/job-definitions/export", json={"job_ids": [job_id]}),
        404,
        kind="job",
    )
    problem(stranger.http().post("/job-definitions/export", json={"job_ids": []}), 422)
    problem(stranger.http().post("/job-definitions/export", json={"job_ids": ["0"]}), 422)
