"""The control plane's CLI as a subprocess on a SQLite store: publish, create, start, runs."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

from headrace import Client
from headrace.model.status import Status


def headrace(*args: str, store: str) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "headrace", *args, "--store", store],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_publish_create_start_and_read_runs(tmp_path: Path) -> None:
    store = f"sqlite:///{tmp_path}/cli.db"
    source = tmp_path / "double.py"
    source.write_text(
        textwrap.dedent(
            """
            from headrace.pipeline import Pipeline

            pipeline = Pipeline.create()
            pipeline.read_from(Pipeline.from_list("nums")).map(lambda x: x * 2).write_to(
                Pipeline.to_list("out"))
            """
        )
    )
    with Client(store, run_workers=False) as client:
        client.get_list("nums").extend([1, 2, 3])
    publish = ("pipelines", "publish", str(source), "--name", "double", "-m", "first")
    commit = json.loads(headrace(*publish, "--label", "prod", "--json", store=store))
    assert commit["version"] == 1 and commit["labels"] == ["prod"]
    assert "double" in headrace("pipelines", "ls", store=store)
    assert (
        json.loads(headrace("pipelines", "commits", "double", "--json", store=store))[0]["message"]
        == "first"
    )
    create = ("jobs", "create", "doubling", "--pipeline", "double", "--label", "prod")
    job = json.loads(headrace(*create, "--tag", "etl", "--json", store=store))
    assert job["status"] == "created"
    started = json.loads(headrace("jobs", "start", job["job_id"], "-p", "threshold=3",
                                  "--json", store=store))  # fmt: skip
    assert started["run_count"] == 1
    with Client(
        store, resume_jobs=True
    ) as client:  # takes the run the CLI queued (issue 11 item 3)
        client.start_workers()
        assert client.jobs.wait(job["job_id"], 60).status is Status.COMPLETED
        assert sorted(client.get_list("out")) == [2, 4, 6]
    runs = json.loads(headrace("jobs", "runs", job["job_id"], "--json", store=store))
    assert [(r["run_count"], r["status"], r["parameters"]) for r in runs] == [
        (1, "completed", {"threshold": 3})
    ]
    assert json.loads(headrace("jobs", "offsets", job["job_id"], store=store)) == {
        "version": 2,
        "offsets": {},
    }
