"""Which ``Host`` headers an ``--insecure-local`` server answers (DNS rebinding)."""

from __future__ import annotations

import pytest

from headrace.api.hosts import loopback_host


@pytest.mark.parametrize(
    "host",
    ["localhost", "LOCALHOST:8000", "app.localhost", "127.0.0.1", "127.0.0.2:1", "[::1]:80"],
)
def test_loopback_names_are_served(host: str) -> None:
    assert loopback_host(host)


@pytest.mark.parametrize(
    "host",
    [
        "evil.example",
        "evil.example:8000",
        "127.0.0.1.nip.io",
        "localhost.evil.example",
        "0.0.0.0",
        "10.0.0.1:8000",
        "[::1",
        "localhost:http",
        "localhost:99999",
        "",
    ],
)
def test_other_names_are_refused(host: str) -> None:
    assert not loopback_host(host)
