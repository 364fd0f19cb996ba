"""These tests run against the embedded client and the remote client (``any_client``)."""

from __future__ import annotations

from typing import Any

import pytest


@pytest.fixture
def client(any_client: Any) -> Any:
    """The embedded client, or the remote client of a real server (see tests/conftest.py)."""
    return any_client
