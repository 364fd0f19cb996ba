"""A store provider as pool workers receive it: its URL and tenant, opened on first use.

``StoreProvider`` pickles as a :class:`StoreProviderRef`, whose module imports nothing
of the store but its encoding of values (``encoding``): an engine worker whose run never
touches the store (items or files in, its output sent to the parent) does not import
SQLAlchemy and the store's tables, and the fork server that makes workers can be ready
sooner (see ``engine.warm``).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any

from headrace.service import encoding

__all__ = ["StoreProviderRef"]


class StoreProviderRef:
    """Stands for ``StoreProvider(url, tenant)``; builds it at the first call that needs it."""

    def __init__(self, url: str, tenant_id: str) -> None:
        self.url, self.tenant_id = url, tenant_id
        self._provider: Any = None

    def __reduce__(self) -> tuple[Any, ...]:
        return StoreProviderRef, (self.url, self.tenant_id)

    def provider(self) -> Any:
        """The ``StoreProvider`` (``headrace.service.data`` imported here, once)."""
        if self._provider is None:
            data = importlib.import_module("headrace.service.data")
            self._provider = data.StoreProvider.at(self.url, self.tenant_id)
        return self._provider

    def encoder(self, kind: str) -> Callable[[list[Any]], list[Any]] | None:
        """How a sink's output becomes the store's rows, here, without opening the store.

        An engine worker encodes its List and Map output with it, so that the process
        that writes the store only writes the rows (``MapHandle.put_rows``).
        """
        return encoding.encoder(kind)

    def has_list(self, name: str) -> bool:
        """Whether a List of this name exists."""
        return bool(self.provider().has_list(name))

    def has_map(self, name: str) -> bool:
        """Whether a Map of this name exists."""
        return bool(self.provider().has_map(name))

    def has_stream(self, name: str) -> bool:
        """Whether a Stream of this name exists."""
        return bool(self.provider().has_stream(name))

    def get_list(self, name: str) -> Any:
        """The List ``name``."""
        return self.provider().get_list(name)

    def get_map(self, name: str) -> Any:
        """The Map ``name``."""
        return self.provider().get_map(name)

    def get_stream(self, name: str) -> Any:
        """The Stream ``name``."""
        return self.provider().get_stream(name)
