"""Reading job groups and job types (seed 004 ``/job-groups``, ``/job-types``)."""

from __future__ import annotations

import builtins

from headrace import defaults, errors
from headrace.model.job import JobGroupInfo, JobTypeInfo, Page
from headrace.scheduler.registry import Registry
from headrace.store.catalog import CatalogRepository
from headrace.store.database import Store


def store_declared(store: Store, registry: Registry) -> None:
    """Store every job group and type the registry knows (groups without types too).

    What ``--import`` modules declared becomes visible to ``GET /job-groups`` and
    ``headrace job-groups ls`` as the process starts, before any job is scheduled.
    """
    repo = CatalogRepository(store)
    groups = registry.groups()
    for group in groups.values():
        repo.save(group)
    for spec in registry.types().values():
        repo.save(groups[spec.info.group_name], spec.info)


def check_page(page: int, limit: int) -> None:
    """Refuse a page number or size out of range.

    Raises:
        InvalidInput: naming ``page`` or ``limit``.
    """
    if not isinstance(page, int) or page < 1:
        raise errors.InvalidInput("page", f"must be an int >= 1, got {page!r}")
    if not isinstance(limit, int) or not 1 <= limit <= defaults.MAX_PAGE_LIMIT:
        msg = "limit"
        raise errors.InvalidInput(
            msg, f"must be an int in 1..{defaults.MAX_PAGE_LIMIT}, got {limit!r}"
        )


class JobTypeService:
    """The stored job types."""

    def __init__(self, store: Store) -> None:
        self.repo = CatalogRepository(store)

    def list(self, page: int = 1, limit: int = 100) -> Page[JobTypeInfo]:
        """A page of job types, by id (iterable, with ``total``, like ``jobs.list()``).

        Raises:
            InvalidInput: naming ``page`` or ``limit``.
        """
        items, total = self.page(page, limit)
        return Page(items=items, total=total, page=page, limit=limit)

    def page(self, page: int = 1, limit: int = 100) -> tuple[builtins.list[JobTypeInfo], int]:
        """A page of job types, by id, and how many there are in all.

        Raises:
            InvalidInput: naming ``page`` or ``limit``.
        """
        check_page(page, limit)
        return self.repo.list_types(page, limit)

    def get(self, type_id: str) -> JobTypeInfo:
        """One job type.

        Raises:
            NotFound: no such type.
        """
        found = self.repo.get_type(type_id)
        if found is None:
            raise errors.NotFound("job type", type_id)
        return found


class JobGroupService:
    """The stored job groups."""

    def __init__(self, store: Store) -> None:
        self.repo = CatalogRepository(store)

    def list(self, page: int = 1, limit: int = 100) -> Page[JobGroupInfo]:
        """A page of job groups, by name (iterable, with ``total``, like ``jobs.list()``).

        Raises:
            InvalidInput: naming ``page`` or ``limit``.
        """
        items, total = self.page(page, limit)
        return Page(items=items, total=total, page=page, limit=limit)

    def page(self, page: int = 1, limit: int = 100) -> tuple[builtins.list[JobGroupInfo], int]:
        """A page of job groups, by name, and how many there are in all.

        Raises:
            InvalidInput: naming ``page`` or ``limit``.
        """
        check_page(page, limit)
        return self.repo.list_groups(page, limit)

    def get(self, name: str) -> JobGroupInfo:
        """One job group.

        Raises:
            NotFound: no such group.
        """
        found = self.repo.get_group(name)
        if found is None:
            raise errors.NotFound("job group", name)
        return found
