"""The remote client's HTTP when the server drops a kept-alive connection as it is reused."""

from __future__ import annotations

import socket
import struct
import threading
from collections.abc import Iterator

import pytest

from headrace import errors
from headrace.client.transport import Http

BODY = b'{"ok": true}'
ANSWER = (
    b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\n"
    b"content-length: " + str(len(BODY)).encode() + b"\r\n\r\n" + BODY
)


class DroppingServer:
    """Answers the first request of each connection, then resets it at the next one.

    So the second request of a client reusing its pooled connection meets a reset, as it
    does when a server's keep-alive time ends just as the client sends.
    """

    def __init__(self) -> None:
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}"
        self.requests: list[bytes] = []
        self.connections = 0
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.connections += 1
            threading.Thread(target=self._connection, args=(conn,), daemon=True).start()

    def _read_request(self, conn: socket.socket) -> bytes:
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = conn.recv(65536)
            if not chunk:
                return b""
            data += chunk
        head, _, rest = data.partition(b"\r\n\r\n")
        length = 0
        for line in head.split(b"\r\n")[1:]:
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value)
        while len(rest) < length:
            rest += conn.recv(65536)
        return head.split(b"\r\n")[0]

    def _connection(self, conn: socket.socket) -> None:
        with conn:
            first = self._read_request(conn)
            self.requests.append(first)
            conn.sendall(ANSWER)
            second = self._read_request(conn)
            if second:
                self.requests.append(second)
            # SO_LINGER 0: close with a reset, not a FIN, as a server killing the connection.
            conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))

    def close(self) -> None:
        self.sock.close()


@pytest.fixture
def server() -> Iterator[DroppingServer]:
    running = DroppingServer()
    yield running
    running.close()


def test_a_get_on_a_connection_reset_as_it_is_reused_is_sent_again(
    server: DroppingServer,
) -> None:
    http = Http(server.url, None)
    try:
        assert http.call("GET", "/jobs/a") == {"ok": True}
        assert http.call("GET", "/jobs/b") == {"ok": True}  # reset on reuse, then sent again
    finally:
        http.close()
    assert server.requests == [
        b"GET /jobs/a HTTP/1.1",
        b"GET /jobs/b HTTP/1.1",  # on the first connection: reset unanswered
        b"GET /jobs/b HTTP/1.1",  # on a new one
    ]
    assert server.connections == 2


def test_a_post_on_a_connection_reset_as_it_is_reused_is_not_sent_again(
    server: DroppingServer,
) -> None:
    http = Http(server.url, None)
    try:
        assert http.call("GET", "/jobs/a") == {"ok": True}
        with pytest.raises(errors.StoreUnavailable, match="server unreachable"):
            http.call("POST", "/jobs", json={"type": "t"})  # the server may have done it
    finally:
        http.close()
    assert server.requests == [b"GET /jobs/a HTTP/1.1", b"POST /jobs HTTP/1.1"]
    assert server.connections == 1
