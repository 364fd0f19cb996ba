"""What a process declares (``headrace.job_group``, ``job_type``) is stored as it starts."""

from __future__ import annotations

from headrace.scheduler.registry import Registry
from headrace.service import catalog
from headrace.store.database import Store


def test_declared_groups_are_stored_with_and_without_types(store_url: str) -> None:
    registry = Registry()
    registry.group("reports", queue="download", description="monthly")
    registry.group("empty", queue="maintenance")
    registry.decorator("reports.monthly")(lambda ctx, params: None)
    store = Store(store_url)
    try:
        catalog.store_declared(store, registry)
        groups = catalog.JobGroupService(store)
        assert groups.get("empty").queue_name == "maintenance"
        assert (groups.get("reports").queue_name, groups.get("reports").description) == (
            "download",
            "monthly",
        )
        assert catalog.JobTypeService(store).get("reports.monthly").queue == "download"
        assert [g.name for g in groups.list()] == ["empty", "reports"]
    finally:
        store.close()
