"""The hot routes (``GET /jobs/{id}``, ``POST /jobs``) answer from ``api/replies.py``.

They serialize the job straight from the record in one thread hop; what they answer must
be what a route returning ``JobOut`` answered: the same JSON, the status codes of seed
004 (201, 200 for a repeated idempotency key, 404 problem+json), and the headers the
dependencies set (``X-Headrace-Insecure-Local``).
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI, Response

from headrace.api import replies
from headrace.api.app import create_app
from headrace.api.auth import INSECURE_HEADER, ApiState
from headrace.api.schemas import JobOut
from headrace.model.job import Job
from headrace.scheduler.registry import Registry
from headrace.service.jobs import JobService, Scope
from headrace.store.database import Store


class Http:
    """Requests to an ASGI app in this process (each in its own event loop and thread)."""

    def __init__(self, app: FastAPI) -> None:
        self.app = app

    def request(self, method: str, path: str, **options: Any) -> httpx.Response:
        async def call() -> httpx.Response:
            transport = httpx.ASGITransport(app=self.app)
            async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as c:
                return await c.request(method, path, **options)

        # In a thread of its own: the main thread may already run a loop (the browser
        # tests' session-wide Playwright keeps one running there), and asyncio.run
        # cannot start a second one in it.
        with ThreadPoolExecutor(1) as pool:
            return pool.submit(asyncio.run, call()).result()

    def get(self, path: str, **options: Any) -> httpx.Response:
        return self.request("GET", path, **options)

    def post(self, path: str, **options: Any) -> httpx.Response:
        return self.request("POST", path, **options)


@pytest.fixture
def app(tmp_path: Path) -> Iterator[tuple[Http, JobService]]:
    """An insecure-local app (its requests act as the default tenant) on a SQLite file."""
    store = Store(f"sqlite:///{tmp_path}/r.db")
    registry = Registry()
    registry.decorator("unit.echo")(lambda ctx, params: params)
    state = ApiState(store, registry, insecure_local=True)
    yield Http(create_app(state)), JobService(store, registry, Scope())
    store.close()


def body_of(job: Job) -> bytes:
    """What a route returning ``JobOut`` answered for ``job``."""
    return JobOut.model_validate(job).model_dump_json().encode()


def test_get_job_answers_the_job_out_json_with_the_dependencies_headers(
    app: tuple[Http, JobService],
) -> None:
    http, jobs = app
    job = jobs.schedule("unit.echo", {"x": [1, 2.5, None]}, labels=["gpu"])
    found = http.get(f"/jobs/{job.job_id}", headers={"Authorization": "Bearer ignored"})
    assert found.status_code == 200
    assert found.headers["content-type"] == "application/json"
    assert found.content == body_of(jobs.get(job.job_id))
    assert "Authorization ignored" in found.headers[INSECURE_HEADER]
    assert INSECURE_HEADER not in http.get(f"/jobs/{job.job_id}").headers


def test_get_of_no_such_job_is_a_404_problem(app: tuple[Http, JobService]) -> None:
    http, _ = app
    missing = http.get("/jobs/00000000-0000-4000-8000-000000000000")
    assert missing.status_code == 404
    assert missing.headers["content-type"].startswith("application/problem+json")
    assert missing.json()["status"] == 404


def test_post_answers_201_then_200_for_a_repeated_key_with_the_stored_job(
    app: tuple[Http, JobService],
) -> None:
    http, jobs = app
    body = {"type": "unit.echo", "params": {"n": 1}, "idempotency_key": "k1"}
    first = http.post("/jobs", json=body, headers={"Authorization": "Bearer ignored"})
    assert first.status_code == 201
    assert first.content == body_of(jobs.get(first.json()["job_id"]))
    assert "Authorization ignored" in first.headers[INSECURE_HEADER]
    again = http.post("/jobs", json=body)
    assert again.status_code == 200 and again.json()["job_id"] == first.json()["job_id"]
    assert jobs.list().total == 1


def test_post_refuses_bad_input_with_the_field_named_and_stores_nothing(
    app: tuple[Http, JobService],
) -> None:
    http, jobs = app
    bad = http.post("/jobs", json={"type": "unit.echo", "max_retries": -1})
    assert bad.status_code == 422 and "max_retries" in bad.text
    unknown = http.post("/jobs", json={"type": "unit.nope"})
    assert unknown.status_code == 404
    assert jobs.list().total == 0


def test_reply_keeps_a_status_a_dependency_set() -> None:
    sub = Response()
    del sub.headers["content-length"]
    sub.status_code = 202
    sub.headers["X-Test"] = "1"
    answer = replies.reply(dict, {"a": 1}, sub, 201)
    assert answer.status_code == 202 and answer.headers["X-Test"] == "1"
    assert answer.body == b'{"a":1}'
