"""Seed 001's ``StreamSource("events")`` on a fresh store: the Stream is empty until written.

As a Jet journal, the Stream is created on first read; the job runs, reads nothing, and
sees what is published afterwards. Embedded and remote alike.
"""

from __future__ import annotations

import time
from typing import Any

import pytest

from headrace.jet.job import JobStatus
from headrace.jet.pipeline import Pipeline, StreamSource


@pytest.fixture
def client(any_client: Any) -> Any:
    return any_client


def wait_for(predicate: Any, what: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.02)


def test_stream_source_on_a_fresh_store_reads_what_is_published_later(client: Any) -> None:
    from headrace.jet.pipeline import StreamSource

    source = StreamSource("events")

    pipeline = Pipeline.create()
    pipeline.read_from(source).map(lambda x: x + 1).write_to(Pipeline.to_list("seen"))
    job = client.get_jet().submit(pipeline)
    wait_for(lambda: job.get_status() is JobStatus.RUNNING, "the job to run")
    assert list(client.get_list("seen")) == []
    client.get_stream("events").publish_all(range(5))
    wait_for(lambda: len(client.get_list("seen")) == 5, "the published items")
    assert sorted(client.get_list("seen")) == [1, 2, 3, 4, 5]
    job.cancel()


def test_a_fresh_stream_closed_unwritten_ends_the_job_empty(client: Any) -> None:
    pipeline = Pipeline.create()
    pipeline.read_from(StreamSource("never-written")).write_to(Pipeline.to_list("none"))
    job = client.get_jet().submit(pipeline)
    wait_for(lambda: job.get_status() is JobStatus.RUNNING, "the job to run")
    client.get_stream("never-written").close()
    job.join(timeout=60)
    assert list(client.get_list("none")) == []
