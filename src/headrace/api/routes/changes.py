"""``GET /job-changes``: the tenant's job changes as server-sent events, for live pages.

The stream reads the tenant's changed jobs through the service every
``POLL_SEC`` and sends one ``job`` event per change (``id`` is the change's time, so a
reconnecting client passes it back as ``since_ms``, or as ``Last-Event-ID``). It holds
for ``timeout`` seconds, then ends; the client reconnects. A burst larger than one read
sends ``overflow`` instead ("reload what you show"). Rereading a short window behind the
newest change seen catches a transaction that committed late; what was sent is not sent
twice.

    event: ready      data: {"at_ms": ...}             once, when the stream is live
    event: job        data: {"job_id", "status", ...}  one per change
    event: overflow   data: {"at_ms": ...}             too many changes at once
    event: unauthenticated  data: {"detail": ...}      the token was revoked: the end

The token is checked again every ``REAUTH_SEC``: a revoked one stops the stream. A
server that begins to shut down ends its streams at their next read.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import AsyncIterator, Callable
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import StreamingResponse
from fastapi.security import HTTPAuthorizationCredentials

from headrace import errors
from headrace.api import problems
from headrace.api.auth import Reader, State, bearer
from headrace.model.clock import now_ms
from headrace.model.job import Job
from headrace.service.overview import CHANGES_LIMIT, OverviewService

router = APIRouter(tags=["overview"], responses=problems.responses(401, 422, 503))

#: Seconds between two reads of the changes.
POLL_SEC = 0.5
#: Milliseconds reread behind the newest change seen (a late commit's stamp is older).
LOOKBACK_MS = 3000
#: Seconds between two keep-alive comments (proxies close silent connections).
KEEPALIVE_SEC = 15.0
#: Seconds between two checks that the stream's token is still good (a revoked one ends it).
REAUTH_SEC = 5.0
#: Longest a client may hold one stream.
MAX_HOLD_SEC = 300
#: The fields of a job a change event carries (a page reloads what it shows).
FIELDS = ("job_id", "name", "type", "queue", "status", "progress", "updated_at_ms")


def _event(kind: str, data: dict[str, Any], event_id: int | None = None) -> str:
    head = f"id: {event_id}\n" if event_id is not None else ""
    return f"{head}event: {kind}\ndata: {json.dumps(data, separators=(',', ':'))}\n\n"


def _change(job: Job) -> dict[str, Any]:
    return {f: str(getattr(job, f)) if f == "status" else getattr(job, f) for f in FIELDS}


class _Cursor:
    """What the stream has sent: the newest change's time and each job's last stamp."""

    def __init__(self, since_ms: int) -> None:
        self.newest = since_ms
        self.sent: dict[str, int] = {}

    @property
    def floor(self) -> int:
        return max(0, self.newest - LOOKBACK_MS)

    def fresh(self, jobs: list[Job]) -> list[Job]:
        """The jobs changed since they were last sent; remembers them as sent."""
        found = [j for j in jobs if self.sent.get(j.job_id) != j.updated_at_ms]
        for j in found:
            self.sent[j.job_id] = j.updated_at_ms
            self.newest = max(self.newest, j.updated_at_ms)
        floor = self.floor
        self.sent = {k: at for k, at in self.sent.items() if at >= floor}
        return found

    def overflow(self, at_ms: int) -> None:
        """Skip ahead: too much changed to send one by one (the client reloads at once)."""
        self.newest = max(self.newest, at_ms + LOOKBACK_MS)  # the next floor: ``at_ms``
        self.sent.clear()


async def _stream(
    service: OverviewService,
    cursor: _Cursor,
    hold_sec: float,
    request: Request,
    still_good: Callable[[], object],
) -> AsyncIterator[str]:
    stopping: threading.Event = request.app.state.stopping  # the server is shutting down
    yield "retry: 1000\n\n"
    yield _event("ready", {"at_ms": now_ms()})
    deadline = time.monotonic() + hold_sec
    quiet_since = checked = time.monotonic()
    while True:
        if time.monotonic() - checked >= REAUTH_SEC:
            checked = time.monotonic()
            try:
                await run_in_threadpool(still_good)
            except errors.Unauthenticated as exc:
                yield _event("unauthenticated", {"status": 401, "detail": str(exc)})
                return
        at = now_ms()
        jobs = await run_in_threadpool(service.changes, cursor.floor, CHANGES_LIMIT)
        if len(jobs) >= CHANGES_LIMIT:
            cursor.overflow(at)
            yield _event("overflow", {"at_ms": at}, at)
            quiet_since = time.monotonic()
        else:
            for job in cursor.fresh(jobs):
                yield _event("job", _change(job), job.updated_at_ms)
                quiet_since = time.monotonic()
        now = time.monotonic()
        if now >= deadline or stopping.is_set() or await request.is_disconnected():
            return
        if now - quiet_since >= KEEPALIVE_SEC:
            yield ": keep-alive\n\n"
            quiet_since = now
        await asyncio.sleep(min(POLL_SEC, max(0.0, deadline - now)))


@router.get(
    "/job-changes",
    response_class=StreamingResponse,
    responses={200: {"content": {"text/event-stream": {}}, "description": "Server-sent events"}},
)
async def job_changes(
    who: Reader,
    state: State,
    request: Request,
    since_ms: Annotated[
        int | None,
        Query(ge=0, le=2**62, description="Send changes from this time on (ms; default: now)"),
    ] = None,
    timeout: Annotated[
        float, Query(ge=0, le=MAX_HOLD_SEC, description="Seconds to hold the stream")
    ] = 60,
    last_event_id: Annotated[
        str | None, Header(max_length=20, pattern=r"^\d+$", include_in_schema=False)
    ] = None,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)] = None,
) -> StreamingResponse:
    """The tenant's job changes as server-sent events (``text/event-stream``).

    Events: ``ready`` once, then ``job`` per change (``id`` = its time in ms) and
    ``overflow`` when too many changed at once. The stream ends after ``timeout``
    seconds; reconnect with ``since_ms`` (or ``Last-Event-ID``) = the last ``id``.
    """
    start = since_ms
    if start is None and last_event_id is not None:
        start = int(last_event_id)
    cursor = _Cursor(now_ms() if start is None else start)
    service = OverviewService(state.store, who.tenant_id)
    token = None if credentials is None else credentials.credentials
    still_good = (
        (lambda: who) if state.insecure_local else (lambda: state.tokens.authenticate(token))
    )
    return StreamingResponse(
        _stream(service, cursor, timeout, request, still_good),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
    )
