"""Projects as rows: a tenant's named containers for jobs and pipelines."""

from __future__ import annotations

import builtins

from sqlalchemy import delete, func, insert, select

from headrace import errors
from headrace.model.clock import now_ms
from headrace.model.controlplane import DEFAULT_PROJECT, Project
from headrace.store import tables
from headrace.store.database import Store

P, J, PL = tables.projects, tables.jobs, tables.pipelines


class ProjectRepository:
    """One tenant's projects; ``default`` exists without a row."""

    def __init__(self, store: Store, tenant_id: str) -> None:
        self.store = store
        self.tenant_id = tenant_id

    def create(self, name: str, description: str, user_id: str) -> Project:
        """Store a new project.

        Raises:
            Conflict: the tenant already has a project of this name.
        """
        if name == DEFAULT_PROJECT:
            msg = f"project {name!r} already exists"
            raise errors.Conflict(msg)
        at = now_ms()
        with self.store.write() as conn:
            found = conn.execute(
                select(P.c.name).where(P.c.tenant_id == self.tenant_id, P.c.name == name)
            ).first()
            if found is not None:
                msg = f"project {name!r} already exists"
                raise errors.Conflict(msg)
            conn.execute(
                insert(P).values(
                    tenant_id=self.tenant_id,
                    name=name,
                    description=description,
                    user_id=user_id,
                    created_at_ms=at,
                )
            )
        return Project(name, description, user_id, at)

    def list(self) -> builtins.list[Project]:
        """Every project of the tenant, ``default`` first, then by name."""
        with self.store.read() as conn:
            rows = conn.execute(
                select(P).where(P.c.tenant_id == self.tenant_id).order_by(P.c.name)
            ).mappings()
            found = [
                Project(r["name"], r["description"], str(r["user_id"]), r["created_at_ms"])
                for r in rows
            ]
        return [Project(DEFAULT_PROJECT, "The tenant's default project", None, 0), *found]

    def get(self, name: str) -> Project:
        """One project.

        Raises:
            NotFound: the tenant has no project of this name.
        """
        for project in self.list():
            if project.name == name:
                return project
        raise errors.NotFound("project", name)

    def delete(self, name: str) -> None:
        """Delete an empty project.

        Raises:
            NotFound: no such project. Conflict: it is ``default``, or holds jobs or pipelines.
        """
        self.get(name)
        if name == DEFAULT_PROJECT:
            raise errors.Conflict("the default project cannot be deleted")
        with self.store.write() as conn:
            for table, what in ((J, "jobs"), (PL, "pipelines")):
                held = conn.execute(
                    select(func.count())
                    .select_from(table)
                    .where(table.c.tenant_id == self.tenant_id, table.c.project == name)
                ).scalar_one()
                if held:
                    msg = f"project {name!r} holds {held} {what}; delete or move them first"
                    raise errors.Conflict(msg)
            conn.execute(delete(P).where(P.c.tenant_id == self.tenant_id, P.c.name == name))

    def check(self, name: str) -> str:
        """``name`` if the tenant has that project.

        Raises:
            NotFound: naming the project.
        """
        return self.get(name).name
