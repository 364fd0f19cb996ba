"""Who a request acts as: the bearer token's tenant, user and role, and the app's state."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Annotated

from fastapi import Depends, Request, Response
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from starlette.concurrency import run_in_threadpool

from headrace import errors
from headrace.scheduler.registry import Registry
from headrace.service.jobs import JobService, Scope
from headrace.service.pipelines import PipelineService
from headrace.service.projects import ProjectService
from headrace.service.tokens import LOCAL, Principal, TokenService
from headrace.service.workers import WorkerService
from headrace.store.database import Store

#: Job services kept per (tenant, user); past this many, the cache starts over.
MAX_SERVICES = 1024


@dataclass
class ApiState:
    """What every request of one server shares."""

    store: Store
    registry: Registry
    insecure_local: bool = False
    #: ``/metrics`` shows every tenant's job figures, summed, to anyone (a private network).
    metrics_all_tenants: bool = False
    queues: dict[str, int] = field(default_factory=dict)
    wake: Callable[[], None] = lambda: None
    tokens: TokenService = field(init=False)
    workers: WorkerService = field(init=False)
    _services: dict[tuple[str, str], JobService] = field(init=False, default_factory=dict)

    def __post_init__(self) -> None:
        self.tokens = TokenService(self.store)
        self.workers = WorkerService(self.store)

    def jobs(self, who: Principal) -> JobService:
        """The job service confined to the principal's tenant (kept: it caches job types)."""
        key = (who.tenant_id, who.user_id)
        found = self._services.get(key)
        if found is None:
            if len(self._services) >= MAX_SERVICES:
                self._services.clear()
            found = JobService(self.store, self.registry, Scope(*key), self.wake)
            self._services[key] = found
        return found

    def projects(self, who: Principal) -> ProjectService:
        """The project service confined to the principal's tenant."""
        return ProjectService(self.store, self.jobs(who).scope)

    def pipelines(self, who: Principal) -> PipelineService:
        """The pipeline service confined to the principal's tenant."""
        jobs = self.jobs(who)
        return PipelineService(self.store, jobs, jobs.scope)


# The dependencies are ``async`` where they need no database: FastAPI runs a sync
# dependency in its thread pool, a hand-off per dependency per request.


async def get_state(request: Request) -> ApiState:
    """The server's shared state."""
    found: ApiState = request.app.state.headrace
    return found


bearer = HTTPBearer(auto_error=False, description="A token from `headrace tokens create`.")

State = Annotated[ApiState, Depends(get_state)]


#: The response header that says an ``--insecure-local`` server ignored a request's token.
INSECURE_HEADER = "X-Headrace-Insecure-Local"


async def principal(
    state: State,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
    response: Response,
) -> Principal:
    """The principal of the request's bearer token (the default tenant when insecure-local).

    An insecure-local server acts as the default tenant whatever the request says; a
    request that sent a token is told so in a response header, not left to find its
    job in another tenant than its token's.

    Raises:
        Unauthenticated: no token, or an unknown, revoked or expired one.
    """
    if state.insecure_local:
        if credentials is not None:
            response.headers[INSECURE_HEADER] = (
                "Authorization ignored: --insecure-local serves the default tenant as admin"
            )
        return LOCAL
    token = None if credentials is None else credentials.credentials
    known = state.tokens.cached(token) if token else None
    if known is not None:
        return known
    return await run_in_threadpool(state.tokens.authenticate, token)


Reader = Annotated[Principal, Depends(principal)]


async def writer(who: Reader) -> Principal:
    """The principal, if it may change things.

    Raises:
        PermissionDenied: a viewer token.
    """
    if not who.can_write:
        msg = f"role {who.role!r} may only read; writes need operator or admin"
        raise errors.PermissionDenied(msg)
    return who


Writer = Annotated[Principal, Depends(writer)]


def admin(who: Reader) -> Principal:
    """The principal, if it is an admin of its tenant.

    Raises:
        PermissionDenied: an operator's or a viewer's token.
    """
    if who.role != "admin":
        msg = f"role {who.role!r} may not manage tokens; that needs an admin token"
        raise errors.PermissionDenied(msg)
    return who


Admin = Annotated[Principal, Depends(admin)]
