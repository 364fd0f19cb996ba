"""``headrace jobs export|import``: an archive written by one store's jobs, read by another."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from cli_support import run

from headrace import Client
from headrace.jet.pipeline import Pipeline
from headrace.model.status import Status


def square(x: int) -> int:
    return x * x


def test_export_then_import_into_another_store_and_run(
    store_factory: Callable[[], str], tmp_path: Path
) -> None:
    source, target = store_factory(), store_factory()
    with Client(source, run_workers=False) as client:
        p = Pipeline.create()
        p.read_from(Pipeline.from_list("nums")).map(square).write_to(Pipeline.to_list("out"))
        client.pipelines.publish(p, "square")
        job = client.jobs.create("squaring", pipeline="square", tags=["etl"])
    archive = tmp_path / "jobs.zip"

    exported = run("jobs", "export", job.job_id[:13], "-o", str(archive), "--store", source)
    assert exported.exit_code == 0, exported.stderr
    assert f"{archive}: 1 job(s)" in exported.stdout and archive.read_bytes()[:2] == b"PK"

    imported = run("jobs", "import", str(archive), "--store", target, "--json")
    assert imported.exit_code == 0, imported.stderr
    (made,) = json.loads(imported.stdout)
    assert made["name"] == "squaring" and made["tags"] == ["etl"] and made["job_id"] != job.job_id

    with Client(target) as client:
        client.get_list("nums").extend([1, 2, 3])
        client.jobs.start(made["job_id"])
        assert client.jobs.wait(made["job_id"], 60).status is Status.COMPLETED
        assert sorted(client.get_list("out")) == [1, 4, 9]

    nowhere = run("jobs", "import", str(archive), "--store", source, "--project", "nowhere")
    assert nowhere.exit_code == 1 and "project 'nowhere' not found" in nowhere.stderr
    again = run("jobs", "import", str(archive), "--store", source, "--parameters", "reset")
    assert again.exit_code == 0 and "imported 1 job(s)" in again.stdout


def test_import_refuses_a_file_that_is_not_an_archive(store_url: str, tmp_path: Path) -> None:
    bogus = tmp_path / "jobs.zip"
    bogus.write_bytes(b"not a zip at all")
    refused = run("jobs", "import", str(bogus), "--store", store_url)
    assert refused.exit_code == 1
    assert refused.stderr.strip() == "error: archive: is not a ZIP file"
    missing = run("jobs", "import", str(tmp_path / "nope.zip"), "--store", store_url)
    assert missing.exit_code == 1 and "cannot read" in missing.stderr
    with Client(store_url, run_workers=False) as client:
        assert client.jobs.find() == []
