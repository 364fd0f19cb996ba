"""The FastAPI application: routers, error table, body limit and metrics over one state."""

from __future__ import annotations

import threading
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

from fastapi import Depends, FastAPI

import headrace
from headrace import defaults
from headrace.api import dashboard, docs, hosts, inputs, limits, metrics, problems
from headrace.api.auth import ApiState
from headrace.api.routes import (
    catalog,
    changes,
    data,
    definitions,
    jobs,
    ops,
    overview,
    pipelines,
    projects,
    schedules,
    tokens,
    versions,
)

DESCRIPTION = """Seed 004's job API plus events, logs, a long-poll wait, queues, workers,
data structures, and pipeline (Jet) jobs.

Every request but `/healthz`, `/metrics` and `/` carries `Authorization: Bearer <token>`
(from `headrace tokens create`); the token's tenant scopes everything. Errors are
`application/problem+json`, with `field` naming bad input.

`POST /pipeline-jobs` takes `{"pipeline": base64(cloudpickle.dumps(pipeline)), "config": {...}}`;
`Client("http://host:port", token=...)` does that for you (`client.get_jet().submit(p)`).
"""


def create_app(
    state: ApiState,
    on_start: Callable[[], None] = lambda: None,
    on_stop: Callable[[], None] = lambda: None,
    max_body_bytes: int = defaults.MAX_BODY_BYTES,
    max_pipeline_bytes: int = defaults.MAX_PIPELINE_BODY_BYTES,
) -> FastAPI:
    """The API over ``state``; ``on_start``/``on_stop`` run as the server starts and stops."""

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        on_start()
        try:
            yield
        finally:
            on_stop()

    app = FastAPI(
        title="Headrace",
        version=getattr(headrace, "__version__", "0.1.0"),
        description=DESCRIPTION,
        lifespan=lifespan,
        # /docs is served from the package's own Swagger UI (api/docs.py); ReDoc would
        # need a CDN, so it is off.
        docs_url=None,
        redoc_url=None,
        dependencies=[Depends(inputs.check_request)],
    )
    docs.install(app)
    app.state.headrace = state
    #: Set when the server starts to stop: long-held responses (event streams) end on it.
    app.state.stopping = threading.Event()
    registry = metrics.registry_for(state.workers)
    app.state.metrics = registry
    problems.install(app)
    routers = (jobs.router, pipelines.router, catalog.router, data.router, ops.router)
    app.include_router(tokens.router)
    control = (projects.router, versions.router, definitions.router, schedules.router)
    for router in (*routers, *control):
        app.include_router(router)
    app.include_router(overview.router)
    app.include_router(changes.router)
    dashboard.install(app)
    app.add_middleware(
        limits.BodyLimit,
        limit=max_body_bytes,
        paths={"/pipeline-jobs": max_pipeline_bytes, "/pipelines": max_pipeline_bytes},
    )
    app.add_middleware(metrics.HttpMetrics, registry=registry)
    if state.insecure_local:
        app.add_middleware(hosts.LoopbackHosts)  # outermost: before anything else runs
    return app
