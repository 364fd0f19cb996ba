"""The server keeps an idle connection longer than the remote client's pool does."""

from __future__ import annotations

import socket
import time
from urllib.parse import urlsplit

import httpx
import pytest
from server_process import RunningServer

from headrace import defaults

#: httpx's pool expiry (its default): the server must keep a connection longer than this.
CLIENT_EXPIRY_SEC = httpx.Limits().keepalive_expiry or 0.0


def ask(conn: socket.socket) -> bytes:
    """The head of the answer to one ``GET /healthz`` on ``conn`` (b"" if it was closed)."""
    conn.sendall(b"GET /healthz HTTP/1.1\r\nhost: headrace\r\n\r\n")
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(65536)
        if not chunk:
            return b""
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    length = next(
        int(v) for k, _, v in (h.partition(b":") for h in lines) if k.lower() == b"content-length"
    )
    while len(body) < length:  # read the whole answer, so the next one starts clean
        body += conn.recv(65536)
    return lines[0]


@pytest.mark.parametrize("api_store_url", ["sqlite"], indirect=True)
def test_an_idle_connection_outlives_the_clients_pool_expiry(server: RunningServer) -> None:
    assert defaults.SERVER_KEEP_ALIVE_SEC > CLIENT_EXPIRY_SEC > 0
    address = urlsplit(server.url)
    with socket.create_connection((address.hostname, address.port), timeout=10) as conn:
        assert ask(conn) == b"HTTP/1.1 200 OK"
        time.sleep(CLIENT_EXPIRY_SEC + 1)  # uvicorn's default keep-alive (5 s) closed it here
        assert ask(conn) == b"HTTP/1.1 200 OK"  # the same connection still answers
