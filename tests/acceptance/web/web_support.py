"""What the dashboard tests share: the running server's handle and small helpers."""

from __future__ import annotations

import subprocess
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from playwright.sync_api import Page, expect

HERE = Path(__file__).parent
WAIT = 30_000  # ms a browser expectation may take (a change arrives within a second or two)


@dataclass
class Served:
    """The running server, its store and the tokens of two tenants."""

    url: str
    store_url: str
    proc: subprocess.Popen[bytes]
    log: Path
    tokens: dict[str, str] = field(default_factory=dict)
    tenant_ids: dict[str, str] = field(default_factory=dict)
    store_name: str = ""

    def http(self, role: str = "operator") -> httpx.Client:
        headers = {"Authorization": f"Bearer {self.tokens[role]}"}
        return httpx.Client(base_url=self.url, headers=headers, timeout=30)

    def output(self) -> str:
        return self.log.read_text(errors="replace")


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def schedule(http: httpx.Client, type_: str, name: str, **body: Any) -> str:
    answer = http.post("/jobs", json={"type": type_, "name": name, **body})
    assert answer.status_code == 201, answer.text
    return str(answer.json()["job_id"])


def define(http: httpx.Client, **body: Any) -> str:
    """A job defined (status ``created``) through ``POST /job-definitions``."""
    answer = http.post("/job-definitions", json=body)
    assert answer.status_code == 201, answer.text
    return str(answer.json()["job_id"])


def wait_status(http: httpx.Client, job_id: str, statuses: set[str], timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while (status := http.get(f"/jobs/{job_id}").json()["status"]) not in statuses:
        assert time.monotonic() < deadline, f"job {job_id} still {status}"
        time.sleep(0.05)


def open_sign_in(browser: Any, served: Served, **context: Any) -> Page:
    """A new tab of a new browser context at the sign-in form.

    If the form does not come, the failure says why as far as the tab and the server can
    tell: the page's console errors and failed requests, and the server log's tail (twice
    in CI the page stayed at "Loading the dashboard…" for the whole wait, cause unknown).
    """
    page: Page = browser.new_context(**context).new_page()
    seen: list[str] = []
    page.on("console", lambda m: seen.append(f"console {m.type}: {m.text}"))
    page.on("pageerror", lambda e: seen.append(f"page error: {e}"))
    page.on("requestfailed", lambda r: seen.append(f"failed: {r.url} {r.failure}"))
    page.on(
        "response",
        lambda r: seen.append(f"HTTP {r.status}: {r.url}") if r.status >= 400 else None,
    )
    started = time.strftime("%H:%M:%S")
    page.goto(served.url + "/")
    try:
        expect(page.get_by_label("Token")).to_be_visible(timeout=WAIT)
    except AssertionError as exc:
        tail = "\n".join(served.output().splitlines()[-40:])
        msg = f"{exc}\nfrom {started}, the tab saw:\n" + "\n".join(seen)
        raise AssertionError(f"{msg}\nserver log's tail:\n{tail}") from None
    return page


def open_signed_in(browser: Any, served: Served, role: str, **context: Any) -> Page:
    """A new tab of a new browser context, signed in through the form with ``role``'s token."""
    page = open_sign_in(browser, served, **context)
    page.get_by_label("Token").fill(served.tokens[role])
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Overview", level=1)).to_be_visible(timeout=WAIT)
    return page


def shot(page: Page, artefacts: Path, served: Served, name: str) -> None:
    page.screenshot(path=artefacts / f"{served.store_name}-{name}.png", full_page=True)
