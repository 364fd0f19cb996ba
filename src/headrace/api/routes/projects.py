"""Projects over HTTP: ``/projects`` (every tenant has ``default``)."""

from __future__ import annotations

from fastapi import APIRouter, Response

from headrace.api import problems
from headrace.api.auth import Reader, State, Writer
from headrace.api.control_schemas import ProjectIn, ProjectOut
from headrace.api.paths import Name
from headrace.api.schemas import Items

router = APIRouter(tags=["projects"], responses=problems.responses(401, 403, 404, 409, 422, 503))


@router.post("/projects", status_code=201, response_model=ProjectOut)
def create(body: ProjectIn, who: Writer, state: State) -> ProjectOut:
    """Create a project (409 if the name is taken)."""
    return ProjectOut.model_validate(state.projects(who).create(body.name, body.description))


@router.get("/projects", response_model=Items[ProjectOut])
def list_projects(who: Reader, state: State) -> Items[ProjectOut]:
    """The tenant's projects, ``default`` first."""
    found = state.projects(who).list()
    return Items[ProjectOut](items=[ProjectOut.model_validate(p) for p in found], total=len(found))


@router.get("/projects/{name}", response_model=ProjectOut)
def get(name: Name, who: Reader, state: State) -> ProjectOut:
    """One project."""
    return ProjectOut.model_validate(state.projects(who).get(name))


@router.delete("/projects/{name}", status_code=204)
def delete(name: Name, who: Writer, state: State) -> Response:
    """Delete an empty project (409 while it holds jobs or pipelines, or for ``default``)."""
    state.projects(who).delete(name)
    return Response(status_code=204)
