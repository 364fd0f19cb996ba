"""The dashboard's control-plane views in a real browser: live updates by server-sent
events, tag and project filters, start/stop and the other lifecycle buttons, runs with
metrics and offsets, a published pipeline's commits, labels and diff.

Same server and Chromium as ``test_dashboard.py`` (session fixtures); each test makes its
own jobs with unique names in tenant ``acme``.
"""

from __future__ import annotations

import base64
import re
import time
from datetime import UTC, datetime
from pathlib import Path

import cloudpickle
import httpx
import pytest
from playwright.sync_api import Page, expect
from web_support import WAIT, Served, define, schedule, shot, unique, wait_status

import headrace
from headrace.jet.pipeline import Pipeline, StreamSource
from headrace.model.jobconfig import JobConfig

pytestmark = pytest.mark.slow


def test_the_jobs_list_follows_the_event_stream_and_filters_by_tag_and_project(
    page: Page, served: Served, operator: httpx.Client
) -> None:
    tag = unique("team")
    project = unique("proj")
    assert operator.post("/projects", json={"name": project}).status_code == 201
    eu = define(operator, type="web.quick", name=f"eu-{tag}", tags=[f"{tag}/eu"], project=project)
    define(operator, type="web.quick", name=f"us-{tag}", tags=[f"{tag}/us"])
    define(operator, type="web.quick", name=f"other-{tag}", tags=[f"{tag}s"], project=project)
    streams: list[str] = []
    page.on("request", lambda r: streams.append(r.url) if "/job-changes" in r.url else None)
    page.goto(f"{served.url}/#/jobs")
    page.get_by_label("Tag").fill(tag)
    page.get_by_role("button", name="Apply").click()
    rows = page.locator("table.jobs tbody tr")
    expect(rows).to_have_count(2, timeout=WAIT)  # its children, not "{tag}s"
    expect(page.locator(".live")).to_have_text("● live", timeout=WAIT)
    assert streams and all("token" not in u for u in streams)
    page.get_by_label("Project").select_option(project)
    page.get_by_role("button", name="Apply").click()
    expect(rows).to_have_count(1, timeout=WAIT)
    expect(rows.first).to_have_attribute("data-job", eu)
    assert f"tag={tag}" in page.url and f"project={project}" in page.url
    # A job that arrives while the page is open appears, and its status moves, no reload.
    page.evaluate("window.__sameDocument = true")
    late = define(operator, type="web.quick", name=f"late-{tag}", tags=[tag], project=project)
    expect(rows).to_have_count(2, timeout=WAIT)
    row = page.locator(f"tr[data-job='{late}']")
    expect(row.locator(".status")).to_contain_text("created")
    assert operator.post(f"/jobs/{late}/start").status_code == 200
    expect(row.locator(".status")).to_contain_text("completed", timeout=WAIT)
    assert page.evaluate("window.__sameDocument") is True
    row.locator(f"a.label:text-is('{tag}')").click()  # a tag links to its filter
    expect(page).to_have_url(f"{served.url}/#/jobs?tag={tag}")


def test_start_stop_and_the_runs_of_a_job(
    page: Page, served: Served, operator: httpx.Client, artefacts: Path
) -> None:
    job = define(operator, type="web.slow", name=unique("defined"), params={"seconds": 60})
    page.goto(f"{served.url}/#/jobs/{job}")
    status = page.locator("#job-status")
    expect(status).to_contain_text("created", timeout=WAIT)
    expect(page.get_by_text("No run yet")).to_be_visible()
    for absent in ("stop", "cancel", "suspend"):
        expect(page.locator(f"button[data-action={absent}]")).to_have_count(0)
    page.locator("button[data-action=start]").click()
    expect(status).to_contain_text("running", timeout=WAIT)
    expect(page.locator("button[data-action=start]")).to_have_count(0)
    # A call the API refuses shows the API's own words: this type cannot suspend running.
    page.locator("button[data-action=suspend]").click()
    expect(page.get_by_role("alert")).to_contain_text("not suspendable", timeout=WAIT)
    assert operator.get(f"/jobs/{job}").json()["status"] == "running"
    page.locator("button[data-action=stop]").click()
    expect(status).to_contain_text("canceled", timeout=WAIT)
    stopped = page.locator("ol.timeline li", has_text="stopped by user")
    expect(stopped).to_contain_text("by you (olga)")  # who, from the events
    page.locator("button[data-action=start]").click()  # a new run
    runs = page.locator("table.runs tbody tr")
    expect(runs).to_have_count(2, timeout=WAIT)
    expect(runs.first).to_have_attribute("data-run", "2")
    expect(runs.nth(1).locator(".status")).to_contain_text("canceled")
    expect(status).to_contain_text("running", timeout=WAIT)
    page.locator("button[data-action=force-stop]").click()
    expect(status).to_contain_text("cancel", timeout=WAIT)
    wait_status(operator, job, {"canceled"})
    expect(runs.first.locator(".status")).to_contain_text("canceled", timeout=WAIT)
    page.locator("details[data-run='1'] summary").click()
    expect(page.locator("details[data-run='1'] h4")).to_have_text("Metrics")  # a task: none
    shot(page, artefacts, served, "job-runs")


def test_retry_a_failed_job_from_its_page(
    page: Page, served: Served, operator: httpx.Client
) -> None:
    job = schedule(operator, "web.broken", unique("fails"))
    wait_status(operator, job, {"failed"})
    page.goto(f"{served.url}/#/jobs/{job}")
    expect(page.locator("button[data-action=retry]")).to_be_visible(timeout=WAIT)
    expect(page.locator("button[data-action=start]")).to_be_visible()
    page.locator("button[data-action=retry]").click()
    expect(page.locator("p.ok")).to_contain_text("Retry: accepted", timeout=WAIT)
    wait_status(operator, job, {"failed"})
    expect(page.locator("#runs-h")).to_contain_text("2 in all", timeout=WAIT)
    expect(page.locator("table.runs tbody tr").first).to_have_attribute("data-run", "2")
    expect(page.locator("button[data-action=acknowledge]")).to_have_count(0)  # not required


def test_acknowledge_the_error_of_a_job_that_requires_it(
    page: Page, served: Served, operator: httpx.Client
) -> None:
    job = define(operator, type="web.broken", name=unique("acked"), require_error_ack=True)
    assert operator.post(f"/jobs/{job}/start").status_code == 200
    wait_status(operator, job, {"failed"})
    page.goto(f"{served.url}/#/jobs/{job}")
    page.locator("button[data-action=acknowledge]").click()
    expect(page.locator("p.ok")).to_contain_text("Acknowledge error: accepted", timeout=WAIT)
    expect(page.locator("button[data-action=acknowledge]")).to_have_count(0, timeout=WAIT)
    assert operator.get(f"/jobs/{job}").json()["error_acknowledged"] is True


def pickled(pipeline: Pipeline) -> str:
    return base64.b64encode(cloudpickle.dumps(pipeline)).decode()


def test_a_published_pipelines_commits_labels_and_diff(
    page: Page, served: Served, operator: httpx.Client, artefacts: Path
) -> None:
    import web_jobs  # the server imports it too: the stages travel by reference

    name = unique("orders")
    first = Pipeline.create()
    first.read_from(Pipeline.from_list(f"{name}-in", [1, 2])).map(web_jobs.double) \
        .write_to(Pipeline.to_list(f"{name}-out"))  # fmt: skip
    second = Pipeline.create()
    second.read_from(Pipeline.from_list(f"{name}-in", [1, 2])).filter(web_jobs.positive) \
        .map(web_jobs.double).write_to(Pipeline.to_list(f"{name}-out"))  # fmt: skip
    for p, message, labels in ((first, "doubles", ["stable"]), (second, "drops negatives", [])):
        body = {"pipeline": pickled(p), "name": name, "commit_message": message, "labels": labels}
        answer = operator.post("/pipelines", json=body)
        assert answer.status_code == 201, answer.text
    pinned = define(operator, pipeline=name, name=unique("pinned"), label="stable")
    page.get_by_role("link", name="Pipelines", exact=True).click()
    page.locator(f"tr[data-pipeline='{name}'] a").click()
    expect(page).to_have_url(f"{served.url}/#/published/{name}")
    commits = page.locator("ol.commits li")
    expect(commits).to_have_count(2, timeout=WAIT)
    expect(commits.first).to_contain_text("v2")
    expect(commits.first).to_contain_text("drops negatives")
    expect(commits.nth(1)).to_contain_text("doubles")
    expect(commits.nth(1).locator(".label")).to_have_text("stable")
    expect(page.locator(f"tr[data-job='{pinned}']")).to_contain_text("v1", timeout=WAIT)
    page.get_by_role("button", name="Compare").click()  # v1 to v2, the defaults
    diff = page.locator("#diff")
    expect(diff.locator(".added").first).to_contain_text("filter", timeout=WAIT)
    expect(diff.locator(".removed").first).to_contain_text("none")
    assert "a=1" in page.url and "b=2" in page.url
    shot(page, artefacts, served, "commits")
    # The pipeline job's page shows the same history.
    page.goto(f"{served.url}/#/pipelines/{pinned}")
    expect(page.locator("ol.commits li")).to_have_count(2, timeout=WAIT)
    expect(page.locator("svg.dag g.vertex")).to_have_count(1)  # v1, the pinned commit, fused


def test_a_streaming_jobs_runs_show_metrics_and_offsets(
    page: Page, served: Served, operator: httpx.Client
) -> None:
    import web_jobs

    stream = unique("clicks")
    assert operator.put(f"/streams/{stream}?partitions=2").status_code == 200
    operator.post(f"/streams/{stream}", json={"items": list(range(8))})
    p = Pipeline.create()
    p.read_from(StreamSource(stream)).map(web_jobs.double).write_to(
        Pipeline.to_list(f"{stream}-out")
    )
    config = JobConfig(
        name=unique("clicker"), processing_guarantee="AT_LEAST_ONCE", snapshot_interval_ms=200
    )
    with headrace.Client(served.url, token=served.tokens["operator"]) as client:
        job_id = str(client.get_jet().submit(p, config).id)
    try:
        page.goto(f"{served.url}/#/jobs/{job_id}")
        # The source's two splits (one per partition), each at offset 4 once all is read.
        offsets = page.locator("#runs-h ~ table.offsets tbody tr")
        expect(offsets).to_have_count(2, timeout=WAIT)
        expect(offsets.nth(1)).to_contain_text("source#0/1")
        expect(offsets.nth(1).locator("td")).to_have_text("4", timeout=WAIT)
        runs = page.locator("table.runs tbody tr")
        expect(runs.first.locator(".metrics")).to_contain_text("in 8", timeout=WAIT)
        page.locator("details[data-run='1'] summary").click()
        expect(page.get_by_label("metrics of run 1")).to_contain_text("received_count")
        expect(page.locator("details[data-run='1'] table.offsets")).to_contain_text(
            "source#0/0", timeout=WAIT
        )
        page.locator("button[data-action=restart]").click()  # from the last snapshot
        expect(page.locator("p.ok")).to_contain_text("Restart: accepted", timeout=WAIT)
    finally:
        operator.post(f"/jobs/{job_id}/cancel")


def test_a_streaming_jobs_watermark_lag(
    page: Page, served: Served, operator: httpx.Client, artefacts: Path
) -> None:
    import web_jobs

    stream = unique("sensor")
    assert operator.put(f"/streams/{stream}?partitions=1").status_code == 200
    at = (int(time.time()) - 600) * 1000  # ten minutes ago, to the second
    operator.post(f"/streams/{stream}", json={"items": [{"at": at, "n": i} for i in range(5)]})
    p = Pipeline.create()
    p.read_from(StreamSource(stream)).with_timestamps(web_jobs.event_time, 0).map(
        web_jobs.reading
    ).write_to(Pipeline.to_list(f"{stream}-out"))
    with headrace.Client(served.url, token=served.tokens["operator"]) as client:
        job_id = str(client.get_jet().submit(p, JobConfig(name=unique("sensing"))).id)
    try:
        page.goto(f"{served.url}/#/pipelines/{job_id}")
        lag = page.locator("table.vertices tr[data-vertex='0'] .lag")
        expect(lag).to_have_attribute("title", f"watermark at {utc(at)}", timeout=WAIT)
        expect(lag).to_have_text(re.compile(r"^\d+ min$"))  # ten minutes and a little
        expect(page.get_by_label("Watermark lag (s) behind this browser's clock")).to_be_visible()
        shot(page, artefacts, served, "pipeline-streaming")
    finally:
        operator.post(f"/jobs/{job_id}/cancel")


def utc(ms: int) -> str:
    """The dashboard's exact UTC form of a time in ms."""
    return datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%d %H:%M:%S.%f")[:-3] + " UTC"
