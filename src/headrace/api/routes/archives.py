"""Job archives over HTTP: export jobs to one ZIP, import a ZIP's jobs whole or not at all.

``POST /job-definitions/export`` takes ``{"job_ids": [...], "offsets": false}`` and answers
the archive as ``application/zip``; ``POST /job-definitions/import`` takes the archive as
the raw request body (``application/zip``) and answers the jobs it created (201). A
damaged, truncated or foreign archive is a 422 ``invalid-archive`` problem whose ``entry``
names what was wrong; nothing of it is imported.
"""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request, Response
from starlette.concurrency import run_in_threadpool

from headrace import errors
from headrace.api import problems
from headrace.api.auth import Reader, State, Writer
from headrace.api.control_schemas import ExportIn
from headrace.api.schemas import Items, JobOut

router = APIRouter(
    tags=["job archives"], responses=problems.responses(401, 403, 404, 409, 413, 422, 503)
)

#: Media types an imported archive may be sent as.
ZIP_TYPES = ("application/zip", "application/octet-stream", "application/x-zip-compressed")
Choice = Literal["keep", "reset"]
_ZIP_BODY = {
    "requestBody": {
        "required": True,
        "content": {t: {"schema": {"type": "string", "format": "binary"}} for t in ZIP_TYPES},
    }
}


@router.post(
    "/job-definitions/export",
    response_class=Response,
    responses={200: {"content": {"application/zip": {}}, "description": "The archive."}},
)
def export_jobs(body: ExportIn, who: Reader, state: State) -> Response:
    """A ZIP archive of the jobs, the pipeline commits they pin and (``offsets``) offsets."""
    data = state.archives(who).export_jobs(body.job_ids, offsets=body.offsets)
    return Response(
        data,
        media_type="application/zip",
        headers={"Content-Disposition": 'attachment; filename="jobs.zip"'},
    )


@router.post(
    "/job-definitions/import",
    status_code=201,
    response_model=Items[JobOut],
    openapi_extra=_ZIP_BODY,
)
async def import_jobs(
    request: Request,
    who: Writer,
    state: State,
    offsets: Choice = "keep",
    parameters: Choice = "keep",
    project: Annotated[str | None, Query(min_length=1, max_length=255)] = None,
) -> Items[JobOut]:
    """Create the archive's jobs and commits (new ids, the caller as owner), or nothing."""
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if kind not in ZIP_TYPES:
        msg = f"send the archive as the body, content-type application/zip (got {kind!r})"
        raise errors.InvalidArchive("archive", msg)
    data = await request.body()
    service = state.archives(who)
    found = await run_in_threadpool(
        service.import_jobs, data, offsets=offsets, parameters=parameters, project=project
    )
    return Items[JobOut](items=[JobOut.model_validate(j) for j in found], total=len(found))
