"""Projects for one tenant: create, list, get, delete (refused while they hold anything)."""

from __future__ import annotations

import builtins
from typing import TYPE_CHECKING

from headrace import errors
from headrace.model.controlplane import Project
from headrace.store.database import Store
from headrace.store.projects import ProjectRepository

if TYPE_CHECKING:
    from headrace.service.jobs import Scope


def check_name(field: str, value: object) -> str:
    """A name of 1..255 characters.

    Raises:
        InvalidInput: naming ``field``.
    """
    if not isinstance(value, str) or not 0 < len(value.strip()) <= 255:
        raise errors.InvalidInput(field, f"must be a name of 1..255 characters, got {value!r}")
    return value


class ProjectService:
    """One tenant's projects (every tenant has ``default``)."""

    def __init__(self, store: Store, scope: Scope) -> None:
        self.scope = scope
        self.repo = ProjectRepository(store, scope.tenant_id)

    def create(self, name: str, description: str = "") -> Project:
        """Create a project.

        Raises:
            InvalidInput: a bad name. Conflict: the name is taken.
        """
        if not isinstance(description, str):
            raise errors.InvalidInput("description", "must be a string")
        return self.repo.create(check_name("name", name), description, self.scope.user_id)

    def list(self) -> builtins.list[Project]:
        """Every project, ``default`` first."""
        return self.repo.list()

    def get(self, name: str) -> Project:
        """One project. Raises: NotFound."""
        return self.repo.get(name)

    def delete(self, name: str) -> None:
        """Delete a project that holds no jobs or pipelines.

        Raises:
            NotFound: no such project. Conflict: it is ``default`` or not empty.
        """
        self.repo.delete(name)
