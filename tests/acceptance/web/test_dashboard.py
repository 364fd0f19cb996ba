"""The dashboard in a real browser against a real ``headrace server`` with workers.

One server and one Chromium per store for the whole module; each test makes its own
jobs (with unique names) in tenant ``acme``, so the tests do not depend on each other.
"""

from __future__ import annotations

import base64
import re
import time
import uuid
from pathlib import Path
from typing import Any

import cloudpickle
import httpx
import pytest
from playwright.sync_api import Page, expect
from web_support import (
    HERE,
    WAIT,
    Served,
    open_sign_in,
    open_signed_in,
    schedule,
    shot,
    unique,
    wait_status,
)

import headrace
from headrace.jet.pipeline import Pipeline, StreamSource
from headrace.model.jobconfig import JobConfig
from headrace.service.tokens import TokenService
from headrace.store.database import Store

pytestmark = pytest.mark.slow


def test_sign_in_keeps_the_token_in_the_tab_and_a_401_brings_it_back(
    browser: Any, served: Served, artefacts: Path
) -> None:
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    page = context.new_page()
    urls: list[str] = []
    page.on("request", lambda r: urls.append(r.url))
    page.goto(served.url + "/")
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible(timeout=WAIT)
    shot(page, artefacts, served, "sign-in")
    page.get_by_label("Token").fill("hr_not_a_token")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("alert")).to_contain_text("refused", timeout=WAIT)
    store = Store(served.store_url)
    tokens = TokenService(store)
    token, record = tokens.create("acme", "olga", "operator")  # revoked below
    page.get_by_label("Token").fill(token)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Overview", level=1)).to_be_visible(timeout=WAIT)
    expect(page.locator(".who")).to_contain_text("olga@acme")
    expect(page.locator(".who")).to_contain_text("operator")
    assert page.evaluate("sessionStorage.getItem('headrace.token')") == token
    assert page.evaluate("localStorage.length") == 0
    page.get_by_role("link", name="Jobs", exact=True).click()
    expect(page.get_by_role("heading", name="Jobs", level=1)).to_be_visible(timeout=WAIT)
    assert all(token not in u for u in [*urls, page.url])
    expect(page.locator(".live")).to_have_text("● live", timeout=WAIT)
    # Revoked while the page is open: the live stream's 401 brings the sign-in back.
    tokens.revoke(record.token_id)
    store.close()
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible(timeout=WAIT)
    expect(page.get_by_role("alert")).to_contain_text("401")
    assert page.evaluate("sessionStorage.getItem('headrace.token')") is None
    # A token swapped in the tab meanwhile: the next call's 401 does the same.
    page.get_by_label("Token").fill(served.tokens["operator"])
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Jobs", level=1)).to_be_visible(timeout=WAIT)
    page.get_by_role("link", name="Overview", exact=True).click()  # it polls every 2 s
    expect(page.get_by_role("heading", name="Overview", level=1)).to_be_visible(timeout=WAIT)
    page.evaluate("sessionStorage.setItem('headrace.token', 'hr_not_a_token_either')")
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible(timeout=WAIT)
    expect(page.get_by_role("alert")).to_contain_text("401")
    context.close()


@pytest.mark.parametrize("module", ["/ui/js/app.js", "/ui/js/chart.js"])
def test_a_module_that_fails_to_load_is_named_and_reload_brings_the_dashboard(
    browser: Any, served: Served, module: str
) -> None:
    # As when Chromium aborts the requests of a page on a network change (Wi-Fi, VPN):
    # app.js itself, or chart.js, which app.js imports through overview.js.
    context = browser.new_context()
    page = context.new_page()
    url = served.url + module
    page.route(url, lambda route: route.abort("internetdisconnected"))
    page.goto(served.url + "/")
    alert = page.get_by_role("alert")
    expect(alert).to_contain_text(
        f"The dashboard could not load {module}: check the connection", timeout=WAIT
    )
    reload = alert.get_by_role("button", name="Reload")
    expect(reload).to_be_visible()
    expect(page.get_by_text("Loading the dashboard")).to_have_count(0)
    assert serious_violations(page) == []
    page.unroute(url)
    reload.click()
    expect(page.get_by_label("Token")).to_be_visible(timeout=WAIT)
    expect(page.get_by_role("alert")).to_have_count(0)
    context.close()


def test_overview_counts_link_to_the_jobs_list(
    page: Page, served: Served, operator: httpx.Client, artefacts: Path
) -> None:
    done = schedule(operator, "web.quick", unique("counted"))
    wait_status(operator, done, {"completed"})
    failed = schedule(operator, "web.broken", unique("broken"))
    wait_status(operator, failed, {"failed"})
    page.goto(served.url + "/#/")
    completed = page.locator("a.count[data-status=completed]")
    expect(completed.locator(".n")).not_to_have_text("0", timeout=WAIT)
    expect(page.locator("#throughput-summary")).to_contain_text("failed or timed out")
    expect(page.get_by_role("heading", name="Workers")).to_be_visible()
    expect(page.locator("td.heartbeat").first).to_contain_text(" s")
    shot(page, artefacts, served, "overview")
    completed.click()
    expect(page).to_have_url(f"{served.url}/#/jobs?status=completed")
    rows = page.locator("table.jobs tbody tr")
    expect(rows.first).to_be_visible(timeout=WAIT)
    statuses = rows.locator(".status").all_inner_texts()
    assert statuses and all("completed" in s for s in statuses), statuses


def test_find_a_job_by_filter_and_sort(page: Page, served: Served, operator: httpx.Client) -> None:
    tag = uuid.uuid4().hex[:8]
    needle = schedule(operator, "web.quick", f"needle-{tag}")
    schedule(operator, "web.quick", f"hay-{tag}")
    page.goto(served.url + "/#/jobs")
    # Type once the list has loaded, as a person would: the route change from the
    # overview is a hash change the page applies after ``goto`` returns.
    expect(page.locator("nav.pager")).to_contain_text(re.compile(r"\(\d+ jobs\)"), timeout=WAIT)
    page.get_by_label("Name or type contains").fill(f"needle-{tag}")
    page.get_by_role("button", name="Apply").click()
    expect(page).to_have_url(re.compile(f"q=needle-{tag}"), timeout=WAIT)
    rows = page.locator("table.jobs tbody tr")
    expect(rows).to_have_count(1, timeout=WAIT)
    expect(rows.first).to_have_attribute("data-job", needle)
    assert "token" not in page.url and f"q=needle-{tag}" in page.url
    # The type filter and a sort by type: both names of the tag, in the asked order.
    page.goto(served.url + f"/#/jobs?q={tag}&type=web.quick&order=type")
    expect(rows).to_have_count(2, timeout=WAIT)
    expect(page.locator("th[aria-sort=ascending]")).to_contain_text("type")
    page.get_by_role("button", name="type").click()
    expect(page.locator("th[aria-sort=descending]")).to_contain_text("type", timeout=WAIT)
    # A time range in the browser's zone: scheduled from next year on, none; from 2000, both.
    page.goto(served.url + f"/#/jobs?q={tag}")
    expect(rows).to_have_count(2, timeout=WAIT)
    page.get_by_label("Scheduled from").fill(f"{time.localtime().tm_year + 1}-01-01T00:00")
    page.get_by_role("button", name="Apply").click()
    expect(page.get_by_text("No job matches.")).to_be_visible(timeout=WAIT)
    expect(rows).to_have_count(0)
    page.get_by_label("Scheduled from").fill("2000-01-01T00:00")
    page.get_by_role("button", name="Apply").click()
    expect(rows).to_have_count(2, timeout=WAIT)


def test_a_job_goes_from_waiting_to_completed_without_a_reload(
    page: Page, served: Served, operator: httpx.Client, artefacts: Path
) -> None:
    job = schedule(operator, "web.quick", unique("later"), delay_sec=4, params={"label": "x"})
    page.goto(f"{served.url}/#/jobs/{job}")
    page.evaluate("window.__sameDocument = true")
    status = page.locator("#job-status")
    expect(status).to_contain_text("waiting", timeout=WAIT)
    expect(page.locator("#reason")).to_contain_text("scheduled to start")
    expect(status).to_contain_text("completed", timeout=WAIT)
    assert page.evaluate("window.__sameDocument") is True  # no reload happened
    timeline = page.locator("ol.timeline")
    expect(timeline).to_contain_text("completed")
    expect(timeline.locator("li").first).to_contain_text("waiting")
    expect(page.get_by_label("result", exact=True)).to_contain_text('"ok": true')
    hover = page.locator("dl.facts time").first.get_attribute("title")
    assert hover is not None and hover.endswith(" UTC")
    shot(page, artefacts, served, "job")


def test_a_failed_job_shows_its_error_with_the_traceback(
    page: Page, served: Served, operator: httpx.Client
) -> None:
    job = schedule(operator, "web.broken", unique("broken"), params={"why": "the test"})
    wait_status(operator, job, {"failed"})
    page.goto(f"{served.url}/#/jobs/{job}")
    error = page.locator("pre.traceback")
    expect(error).to_contain_text("broken on purpose: the test", timeout=WAIT)
    expect(error).to_contain_text("Traceback")


def test_cancel_a_running_job_and_see_the_refusal_for_a_completed_one(
    page: Page, served: Served, operator: httpx.Client
) -> None:
    tag = uuid.uuid4().hex[:8]
    running = schedule(operator, "web.slow", f"run-{tag}", params={"seconds": 60})
    completed = schedule(operator, "web.quick", f"done-{tag}")
    wait_status(operator, completed, {"completed"})
    wait_status(operator, running, {"running"})
    page.goto(f"{served.url}/#/jobs?q={tag}")
    rows = page.locator("table.jobs tbody tr")
    expect(rows).to_have_count(2, timeout=WAIT)
    for job in (running, completed):
        page.locator(f"tr[data-job='{job}'] input[type=checkbox]").check()
    page.locator("button[data-action=cancel]").click()
    outcome = page.locator(".outcome")
    expect(outcome).to_contain_text("1 done, 1 refused", timeout=WAIT)
    expect(outcome).to_contain_text("completed")
    wait_status(operator, running, {"canceled"})
    expect(page.locator(f"tr[data-job='{running}'] .status")).to_contain_text(
        "canceled", timeout=WAIT
    )
    # On the job page: the button the status allows, and the API's answer.
    other = schedule(operator, "web.slow", f"run2-{tag}", params={"seconds": 60})
    wait_status(operator, other, {"running"})
    page.goto(f"{served.url}/#/jobs/{other}")
    expect(page.locator("button[data-action=resume]")).to_have_count(0)
    page.locator("button[data-action=cancel]").click()
    expect(page.locator("#job-status")).to_contain_text("cancel", timeout=WAIT)
    wait_status(operator, other, {"canceled"})
    expect(page.locator("#job-status")).to_contain_text("canceled", timeout=WAIT)
    expect(page.locator("button[data-action=cancel]")).to_have_count(0)
    expect(page.locator("button[data-action=delete]")).to_have_count(1)


def test_suspend_and_resume_selected_jobs(
    page: Page, served: Served, operator: httpx.Client
) -> None:
    tag = uuid.uuid4().hex[:8]
    jobs = [schedule(operator, "web.quick", f"later-{tag}-{i}", delay_sec=3600) for i in range(2)]
    page.goto(f"{served.url}/#/jobs?q={tag}")
    expect(page.locator("table.jobs tbody tr")).to_have_count(2, timeout=WAIT)
    page.get_by_label("Select every job on this page").check()
    page.locator("button[data-action=suspend]").click()
    expect(page.locator(".outcome")).to_contain_text("suspend: 2 done", timeout=WAIT)
    for job in jobs:
        assert operator.get(f"/jobs/{job}").json()["status"] == "suspended"
    expect(page.locator("table.jobs .status").first).to_contain_text("suspended", timeout=WAIT)
    page.locator(f"tr[data-job='{jobs[0]}'] input[type=checkbox]").check()
    page.locator("button[data-action=resume]").click()
    expect(page.locator(".outcome")).to_contain_text("resume: 1 done", timeout=WAIT)
    assert [operator.get(f"/jobs/{j}").json()["status"] for j in jobs] == ["waiting", "suspended"]
    for job in jobs:
        operator.post(f"/jobs/{job}/cancel")


def test_follow_a_jobs_logs(page: Page, served: Served, operator: httpx.Client) -> None:
    job = schedule(operator, "web.slow", unique("chatty"), params={"seconds": 60})
    try:
        page.goto(f"{served.url}/#/jobs/{job}")
        logs = page.locator("pre.logs")
        expect(logs).to_contain_text("tick 2", timeout=WAIT)
        expect(logs).to_contain_text("tick 12", timeout=WAIT)  # arrived while following
        expect(page.locator(".progress")).to_contain_text("tick")
        page.get_by_label("Follow").uncheck()
        seen = logs.inner_text().count("tick")
        time.sleep(1.5)
        assert logs.inner_text().count("tick") == seen  # not following: no new lines
    finally:
        operator.post(f"/jobs/{job}/cancel")


def test_a_pipeline_jobs_dag_and_its_counters_moving(
    page: Page, served: Served, operator: httpx.Client, artefacts: Path
) -> None:
    import web_jobs  # the server imports it too: the stages travel by reference

    stream = unique("events")
    assert operator.put(f"/streams/{stream}?partitions=2").status_code == 200
    operator.post(f"/streams/{stream}", json={"items": list(range(10))})
    p = Pipeline.create()
    p.read_from(StreamSource(stream)).filter(web_jobs.positive).map(web_jobs.double) \
        .rebalance().map(web_jobs.double).write_to(Pipeline.to_list(f"{stream}-out"))  # fmt: skip
    with headrace.Client(served.url, token=served.tokens["operator"]) as client:
        job_id = str(client.get_jet().submit(p, JobConfig(name=unique("doubler"))).id)
    try:
        page.get_by_role("link", name="Pipelines", exact=True).click()  # the pipeline jobs
        page.locator(f"tr[data-job='{job_id}'] th a").click()
        expect(page).to_have_url(f"{served.url}/#/pipelines/{job_id}")
        dag = page.locator("svg.dag")
        expect(dag.locator("g.vertex")).to_have_count(2, timeout=WAIT)
        expect(dag.locator("g.vertex[data-vertex='0']")).to_contain_text("filter")
        expect(dag.locator("g.edge")).to_contain_text("round_robin")
        emitted = page.locator("table.vertices tr[data-vertex='1'] td.emitted")
        expect(emitted).to_have_text("10", timeout=WAIT)
        operator.post(f"/streams/{stream}", json={"items": list(range(25))})
        expect(emitted).to_have_text("35", timeout=WAIT)  # moved without a reload
        expect(dag.locator("g.vertex[data-vertex='1']")).to_contain_text("out 35")
        expect(page.locator("figure.chart")).to_have_count(2)
        expect(page.get_by_role("heading", name="Commit history")).to_be_visible()
        shot(page, artefacts, served, "pipeline")
        # A lifecycle call the API refuses shows the API's own words on the job page.
        page.goto(f"{served.url}/#/jobs/{job_id}")
        expect(page.locator("button[data-action=restart]")).to_be_enabled(timeout=WAIT)
        page.get_by_label("Snapshot name").fill("before-upgrade")
        page.locator("button[data-action=export]").click()
        expect(page.get_by_role("alert")).to_contain_text(
            "processing guarantee is NONE", timeout=WAIT
        )
        page.locator("button[data-action=force-cancel]").click()
        expect(page.locator("#job-status")).to_contain_text("canceled", timeout=WAIT)
        assert operator.get(f"/jobs/{job_id}").json()["status"] == "canceled"
        # The data page: the stream's partitions and offsets, and a peek at entries.
        page.goto(f"{served.url}/#/data/stream/{stream}")
        row = page.locator(f"tr[data-structure='stream:{stream}']")
        expect(row).to_contain_text("35", timeout=WAIT)
        expect(page.locator("table.offsets tbody tr")).to_have_count(2)
        expect(page.locator(f"tr[data-structure='list:{stream}-out']")).to_contain_text("35")
        shot(page, artefacts, served, "data")
    finally:
        operator.post(f"/jobs/{job_id}/cancel")


def test_the_data_page_peeks_at_lists_and_maps(
    page: Page, served: Served, operator: httpx.Client
) -> None:
    name = unique("colours")
    operator.post(f"/lists/{name}", json={"items": [{"n": i} for i in range(30)]})
    operator.put(f"/maps/{name}/sky", json={"value": "blue"})
    page.goto(f"{served.url}/#/data")
    expect(page.locator(f"tr[data-structure='list:{name}']")).to_contain_text("30", timeout=WAIT)
    expect(page.locator(f"tr[data-structure='map:{name}']")).to_contain_text("1")
    page.locator(f"tr[data-structure='list:{name}'] a").click()
    peek = page.locator("ol.peek li")
    expect(peek).to_have_count(20, timeout=WAIT)  # one page of the List
    expect(peek.first).to_have_text('{"n":0}')
    page.get_by_role("link", name="Next").click()
    expect(peek).to_have_count(10, timeout=WAIT)
    expect(peek.first).to_have_text('{"n":20}')
    page.locator(f"tr[data-structure='map:{name}'] a").click()
    expect(page.locator("#peek-h + p + div table")).to_contain_text('"blue"', timeout=WAIT)


def test_a_viewer_sees_no_write_button_that_works(
    browser: Any, served: Served, operator: httpx.Client
) -> None:
    job = schedule(operator, "web.slow", unique("watched"), params={"seconds": 60})
    page = open_signed_in(browser, served, "viewer", viewport={"width": 1280, "height": 900})
    try:
        expect(page.get_by_role("note")).to_contain_text("may read everything here, but not")
        page.goto(f"{served.url}/#/jobs/{job}")
        buttons = page.locator("[data-action]")
        expect(buttons.first).to_be_visible(timeout=WAIT)
        assert buttons.count() >= 2
        for i in range(buttons.count()):
            expect(buttons.nth(i)).to_be_disabled()
        page.goto(f"{served.url}/#/jobs?q=watched")
        page.locator(f"tr[data-job='{job}'] input[type=checkbox]").check(timeout=WAIT)
        for action in ("cancel", "suspend", "resume"):
            expect(page.locator(f"button[data-action={action}]")).to_be_disabled()
        # And the API refuses the viewer anyway, saying what the role may not do.
        with served.http("viewer") as viewer:
            refused = viewer.post(f"/jobs/{job}/cancel")
        assert refused.status_code == 403 and "may only read" in refused.json()["detail"]
        assert operator.get(f"/jobs/{job}").json()["status"] == "running"
    finally:
        operator.post(f"/jobs/{job}/cancel")
        page.context.close()


def test_only_one_page_of_ten_thousand_jobs_is_loaded(browser: Any, served: Served) -> None:
    import web_jobs  # noqa: F401  registers web.quick in this process

    from headrace.scheduler.registry import DEFAULT
    from headrace.service.jobs import JobService, Scope

    store = Store(served.store_url)
    try:
        scope = Scope(served.tenant_ids["bulk"], served.tenant_ids["bulk"])
        jobs = JobService(store, DEFAULT, scope)
        for _ in range(5):  # far in the future: no worker runs them during the test
            jobs.schedule_many("web.quick", [{}] * 2000, delay_sec=86_400)
    finally:
        store.close()
    page = open_signed_in(browser, served, "bulk", viewport={"width": 1280, "height": 900})
    try:
        asked: list[str] = []
        page.on("request", lambda r: asked.append(r.url) if "/job-search" in r.url else None)
        page.goto(f"{served.url}/#/jobs")
        expect(page.locator(".pager")).to_contain_text("Page 1 of 500", timeout=WAIT)
        expect(page.locator("table.jobs tbody tr")).to_have_count(20)
        page.get_by_role("button", name="Next").click()
        expect(page.locator(".pager")).to_contain_text("Page 2 of 500", timeout=WAIT)
        expect(page.locator("table.jobs tbody tr")).to_have_count(20)
        assert asked and all("limit=20" in u for u in asked)
    finally:
        page.context.close()


AXE = (HERE / "vendor" / "axe.min.js").read_text()


def serious_violations(page: Page) -> list[str]:
    """axe-core's serious and critical findings on the page as it is now."""
    page.evaluate(AXE)
    found = page.evaluate(
        """async () => (await axe.run(document, {resultTypes: ['violations']})).violations
             .filter(v => ['serious', 'critical'].includes(v.impact))
             .map(v => `${v.id}: ${v.help} (${v.nodes.map(n => n.target.join(' ')).join(', ')})`)"""
    )
    return list(found)


def test_main_pages_have_no_serious_accessibility_violations(
    browser: Any, page: Page, served: Served, operator: httpx.Client
) -> None:
    import web_jobs

    job = schedule(operator, "web.quick", unique("a11y"))
    wait_status(operator, job, {"completed"})
    name = unique("a11y-pipe")
    p = Pipeline.create()
    p.read_from(Pipeline.from_list(f"{name}-in", [1])).map(web_jobs.double) \
        .write_to(Pipeline.to_list(f"{name}-out"))  # fmt: skip
    body = {"pipeline": base64.b64encode(cloudpickle.dumps(p)).decode(), "name": name}
    for message in ("first", "second"):
        assert operator.post("/pipelines", json={**body, "commit_message": message}).is_success
    pinned = operator.post("/job-definitions", json={"name": unique("a11y"), "pipeline": name})
    checks = {
        "overview": ("/#/", "a.count"),
        "jobs": ("/#/jobs", "table.jobs tbody tr"),
        "job": (f"/#/jobs/{job}", "ol.timeline li"),
        "data": ("/#/data", "h1"),
        "pipelines": ("/#/pipelines", "table.published tbody tr"),
        "published": (f"/#/published/{name}?a=1&b=2", "#diff .added"),
        "pipeline": (f"/#/pipelines/{pinned.json()['job_id']}", "svg.dag g.vertex"),
    }
    found = {}
    for name, (path, ready) in checks.items():
        page.goto(served.url + path)
        expect(page.locator(ready).first).to_be_visible(timeout=WAIT)
        found[name] = serious_violations(page)
    fresh = open_sign_in(browser, served)
    found["sign-in"] = serious_violations(fresh)
    fresh.context.close()
    assert found == {name: [] for name in found}


def test_phone_width_keyboard_and_local_times(
    browser: Any, served: Served, operator: httpx.Client, artefacts: Path
) -> None:
    job = schedule(operator, "web.quick", unique("phone"))
    wait_status(operator, job, {"completed"})
    page = open_signed_in(browser, served, "operator", viewport={"width": 390, "height": 844})
    try:
        for name, path, ready in (
            ("overview", "/#/", "a.count"),
            ("jobs", "/#/jobs", "table.jobs tbody tr"),
            ("job", f"/#/jobs/{job}", "ol.timeline li"),
        ):
            page.goto(served.url + path)
            expect(page.locator(ready).first).to_be_visible(timeout=WAIT)
            wide = page.evaluate("document.documentElement.scrollWidth")
            assert wide <= 390, f"{name} is {wide} px wide on a 390 px phone"
            shot(page, artefacts, served, f"phone-{name}")
        times = page.locator("time[title$=' UTC']")
        assert times.count() > 0
        # The keyboard alone: Tab to the Jobs link, Enter follows it.
        page.goto(served.url + "/#/")
        expect(page.locator("a.count").first).to_be_visible(timeout=WAIT)
        page.locator("body").focus()
        for _ in range(12):
            page.keyboard.press("Tab")
            if page.evaluate("document.activeElement.textContent") == "Jobs":
                break
        page.keyboard.press("Enter")
        expect(page.get_by_role("heading", name="Jobs", level=1)).to_be_visible(timeout=WAIT)
    finally:
        page.context.close()
