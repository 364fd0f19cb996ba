"""Errors as ``application/problem+json`` (RFC 9457): the one table from Headrace to HTTP."""

from __future__ import annotations

import logging
from typing import Any

import pydantic
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from headrace import errors

log = logging.getLogger("headrace.api")

MEDIA_TYPE = "application/problem+json"

#: Headrace error -> (HTTP status, problem slug); the first class that matches wins.
TABLE: tuple[tuple[type[errors.HeadraceError], int, str], ...] = (
    (errors.PipelineDefinitionError, 422, "pipeline-definition"),
    (errors.InvalidArchive, 422, "invalid-archive"),
    (errors.InvalidInput, 422, "invalid-input"),
    (errors.NotFound, 404, "not-found"),
    (errors.IllegalTransition, 409, "illegal-transition"),
    (errors.JobAlreadyExists, 409, "job-already-exists"),
    (errors.Conflict, 409, "conflict"),
    (errors.PermissionDenied, 403, "permission-denied"),
    (errors.Unauthenticated, 401, "unauthenticated"),
    (errors.TimeoutException, 504, "timeout"),
    (errors.StoreUnavailable, 503, "store-unavailable"),
    # A request still running as its server shuts down: to the client, a server it cannot
    # use now (another API process, or this one restarted, can).
    (errors.StoreClosed, 503, "store-unavailable"),
    (errors.StoreError, 500, "store-error"),
)

#: Attributes of Headrace errors copied into the problem (``field``, ``kind``, ``id``...),
#: so the remote client can raise the very error the service raised.
EXTENSIONS = (
    "field",
    "kind",
    "id",
    "job_id",
    "current",
    "requested",
    "reason",
    "stage",
    "entry",
)


class Problem(pydantic.BaseModel):
    """A problem detail; the extension members name what was wrong."""

    type: str
    title: str
    status: int
    detail: str
    instance: str | None = None
    field: str | None = None
    kind: str | None = None
    id: str | None = None
    job_id: str | None = None
    current: str | None = None
    requested: str | None = None
    reason: str | None = None
    stage: str | None = None
    entry: str | None = None
    errors: list[dict[str, Any]] | None = None


def _type(slug: str) -> str:
    return f"urn:headrace:problem:{slug}"


def problem(status: int, slug: str, detail: str, **extra: Any) -> JSONResponse:
    """A problem+json response."""
    body: dict[str, Any] = {
        "type": _type(slug),
        "title": slug.replace("-", " "),
        "status": status,
        "detail": detail,
    }
    body.update({k: v for k, v in extra.items() if v is not None})
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    return JSONResponse(body, status_code=status, media_type=MEDIA_TYPE, headers=headers)


def status_of(exc: errors.HeadraceError) -> tuple[int, str]:
    """The HTTP status and slug of a Headrace error (500 for one the table lacks: a bug)."""
    for cls, status, slug in TABLE:
        if isinstance(exc, cls):
            return status, slug
    return 500, "internal-error"


def _headrace(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, errors.HeadraceError)
    status, slug = status_of(exc)
    if status >= 500:
        log.error("%s %s failed: %r", request.method, request.url.path, exc, exc_info=exc)
    extra = {name: getattr(exc, name, None) for name in EXTENSIONS}
    extra = {k: None if v is None else str(v) for k, v in extra.items()}
    return problem(status, slug, str(exc), instance=request.url.path, **extra)


def _validation(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    details = []
    for e in exc.errors():
        loc = [str(p) for p in e.get("loc", ())]
        where = ".".join(loc[1:] if loc and loc[0] in ("body", "query", "path") else loc)
        details.append({"field": where or "body", "message": str(e.get("msg", ""))})
    first = details[0] if details else {"field": "body", "message": "invalid request"}
    return problem(
        422,
        "invalid-input",
        f"{first['field']}: {first['message']}",
        instance=request.url.path,
        field=first["field"],
        errors=details,
    )


def _http(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    slug = {404: "not-found", 405: "method-not-allowed", 413: "too-large"}.get(
        exc.status_code, "http-error"
    )
    response = problem(exc.status_code, slug, str(exc.detail), instance=request.url.path)
    for name, value in (exc.headers or {}).items():
        response.headers[name] = value
    return response


def _unexpected(request: Request, exc: Exception) -> JSONResponse:
    log.error("%s %s crashed", request.method, request.url.path, exc_info=exc)
    return problem(500, "internal-error", f"{type(exc).__name__}: a bug in Headrace")


def install(app: FastAPI) -> None:
    """Make every error the app raises a problem+json response."""
    app.add_exception_handler(errors.HeadraceError, _headrace)
    app.add_exception_handler(RequestValidationError, _validation)
    app.add_exception_handler(StarletteHTTPException, _http)
    app.add_exception_handler(Exception, _unexpected)


def responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses`` declaring problem+json bodies for ``statuses``."""
    schema = Problem.model_json_schema()
    return {
        status: {
            "description": _DESCRIPTIONS.get(status, "Problem"),
            "content": {MEDIA_TYPE: {"schema": schema}},
        }
        for status in statuses
    }


_DESCRIPTIONS = {
    401: "Missing, unknown, revoked or expired token",
    403: "The token's role may not do this",
    404: "No such object in the token's tenant",
    409: "Illegal status change or conflict",
    413: "Request body too large",
    422: "Invalid input; `field` names it",
    503: "Store unavailable or busy",
}
