"""Operations: health, Prometheus metrics, queues, workers, the caller's identity, dashboard."""

from __future__ import annotations

import os

from fastapi import APIRouter, Request, Response
from fastapi.responses import HTMLResponse
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest

from headrace.api import dashboard, problems
from headrace.api import metrics as app_metrics
from headrace.api.auth import ApiState, Reader, State, Writer
from headrace.api.schemas import (
    BalanceIn,
    BalanceOut,
    Health,
    Items,
    MoveOut,
    PurgeOut,
    QueueOut,
    WhoAmI,
    WorkerOut,
)
from headrace.model.clock import now_ms
from headrace.service.balance import Balancer
from headrace.service.tokens import LOCAL
from headrace.service.workers import alive

router = APIRouter(tags=["operations"])
authed = problems.responses(401, 503)


@router.get("/healthz", response_model=Health, responses=problems.responses(503))
def healthz(state: State) -> Health:
    """Whether the server is up and its store answers, and which process answered."""
    with state.store.read() as conn:
        conn.exec_driver_sql("SELECT 1")
    return Health(status="ok", store=state.store.dialect.name, pid=os.getpid())


@router.get(
    "/metrics",
    response_class=Response,
    responses={
        200: {"content": {CONTENT_TYPE_LATEST: {"schema": {"type": "string"}}}},
        **problems.responses(401),
    },
)
def metrics(request: Request, state: State) -> Response:
    """Prometheus metrics: HTTP and worker figures to anyone; job figures as ``job_scope`` says.

    Raises:
        Unauthenticated: an unknown, revoked or expired token.
    """
    registry: CollectorRegistry = request.app.state.metrics
    body = generate_latest(registry)
    # Read by hand, not through the bearer scheme: a token is optional here, and the
    # OpenAPI document must not declare the route as one that needs it.
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    given = token.strip() if scheme.lower() == "bearer" else ""
    shown, tenant_id = job_scope(state, given or None)
    if shown:
        body += generate_latest(app_metrics.job_registry(state.workers, tenant_id))
    return Response(body, media_type=CONTENT_TYPE_LATEST)


def job_scope(state: ApiState, token: str | None) -> tuple[bool, str | None]:
    """Whether a scrape sees job figures, and whose (None: every tenant's, summed).

    A server started with ``--metrics-all-tenants`` shows every tenant's to anyone; else
    an admin token sees its own tenant's, and any other scrape (no token, a viewer's or
    an operator's) none: it gets the HTTP and worker figures only.

    Raises:
        Unauthenticated: an unknown, revoked or expired token.
    """
    if state.metrics_all_tenants:
        return True, None
    if state.insecure_local:
        return True, LOCAL.tenant_id
    if token is None:
        return False, None
    who = state.tokens.authenticate(token)
    return who.role == "admin", who.tenant_id


@router.get("/queues", response_model=Items[QueueOut], responses=authed)
def queues(who: Reader, state: State) -> Items[QueueOut]:
    """Every queue with the capacity live workers give it and the tenant's jobs on it."""
    found = state.workers.queues(who.tenant_id, state.queues)
    return Items[QueueOut](items=[QueueOut.model_validate(q) for q in found], total=len(found))


@router.post("/queues/{name}/purge", response_model=PurgeOut, responses=authed)
def purge(name: str, who: Writer, state: State) -> PurgeOut:
    """Cancel the tenant's waiting jobs on the queue (each with its event); running go on."""
    canceled = state.jobs(who).purge(name)
    return PurgeOut(queue=name, canceled=canceled, total=len(canceled))


@router.get("/workers", response_model=Items[WorkerOut], responses=authed)
def workers(_who: Reader, state: State) -> Items[WorkerOut]:
    """Every registered worker process, newest heartbeat first."""
    at = now_ms()
    found = [
        WorkerOut(
            worker_id=w.worker_id,
            hostname=w.hostname,
            pid=w.pid,
            queues=w.queues,
            started_at_ms=w.started_at_ms,
            heartbeat_ms=w.heartbeat_ms,
            alive=alive(w, at),
            labels=list(w.labels),
            capacity=w.capacity,
            running=w.running,
            locked=w.locked,
            load=round(w.load, 4),
            heartbeat_age_ms=at - w.heartbeat_ms,
        )
        for w in state.workers.workers()
    ]
    return Items[WorkerOut](items=found, total=len(found))


@router.post(
    "/workers/balance",
    response_model=BalanceOut,
    responses=problems.responses(401, 404, 422, 503),
)
def balance(body: BalanceIn, who: Writer, state: State) -> BalanceOut:
    """Move the tenant's running streaming jobs from the most to the least loaded workers.

    Each move suspends the job with a snapshot and resumes it on the other worker; the
    answer comes once every moved job has been resumed.
    """
    moves = Balancer(state.jobs(who)).balance(body.worker_ids)
    return BalanceOut(moves=[MoveOut.model_validate(m) for m in moves])


@router.get("/whoami", response_model=WhoAmI, responses=authed)
def whoami(who: Reader) -> WhoAmI:
    """The tenant, user and role of the request's token."""
    return WhoAmI.model_validate(who)


@router.get("/", response_class=HTMLResponse, include_in_schema=False)
def home() -> HTMLResponse:
    """The dashboard: a page of the API's own client (``headrace/web``)."""
    return HTMLResponse(dashboard.PAGE, headers={"Content-Security-Policy": dashboard.POLICY})
