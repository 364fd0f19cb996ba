"""A light HTTP/1.1 load generator for bench/api.py: closed loop at peak, open loop at a rate.

Each thread owns one keep-alive socket and sends requests prepared as bytes up front,
reading each answer by its ``Content-Length``: tens of microseconds of client CPU a
request, where an ``httpx.Client`` spends several hundred. On a 2-core machine the
client shares the cores with the server and the database, so what it spends is taken
from the server it measures.

``closed_loop``: every thread sends as soon as its last answer came (the peak rate).

``open_loop``: a fixed rate, each thread on its own schedule (``threads / rate`` s apart,
the threads staggered). Latency is counted from when a request was due, not from when it
was sent, so a slow answer that delays the requests queued behind it on its connection
counts against them too (no coordinated omission). Beside it, ``lag``: how late the
generator itself woke for requests whose connection was free before they were due. A
long latency tail with a short lag tail is the server's (or the machine's, for the
server) and not the generator's.
"""

from __future__ import annotations

import socket
import statistics
import threading
import time
from collections.abc import Callable, Sequence

#: One prepared request: ``(index) -> bytes`` of a whole HTTP/1.1 request.
Request = Callable[[int], bytes]


def request_bytes(
    method: str, path: str, host: str, token: str, body: bytes | None = None
) -> bytes:
    """A whole keep-alive HTTP/1.1 request with a bearer token (and a JSON body)."""
    head = [f"{method} {path} HTTP/1.1", f"Host: {host}", f"Authorization: Bearer {token}"]
    if body is not None:
        head += ["Content-Type: application/json", f"Content-Length: {len(body)}"]
    return ("\r\n".join(head) + "\r\n\r\n").encode() + (body or b"")


class Connection:
    """One keep-alive connection: send a request, read its answer, return its status."""

    def __init__(self, host: str, port: int) -> None:
        self.sock = socket.create_connection((host, port))
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buffer = b""

    def call(self, request: bytes) -> int:
        """Send ``request`` and read the whole answer (by its Content-Length)."""
        self.sock.sendall(request)
        while b"\r\n\r\n" not in self.buffer:
            self._read()
        head, _, rest = self.buffer.partition(b"\r\n\r\n")
        lines = head.split(b"\r\n")
        status = int(lines[0].split(b" ", 2)[1])
        length = 0
        for line in lines[1:]:
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value)
        while len(rest) < length:
            rest += self._recv()
        self.buffer = rest[length:]
        return status

    def _read(self) -> None:
        self.buffer += self._recv()

    def _recv(self) -> bytes:
        chunk = self.sock.recv(65536)
        if not chunk:
            msg = "the server closed the connection"
            raise ConnectionError(msg)
        return chunk

    def close(self) -> None:
        """Close the socket."""
        self.sock.close()


def percentile(sorted_values: Sequence[float], q: float) -> float:
    """The ``q`` quantile (0..1) of already sorted values, in ms (0 when empty)."""
    if not sorted_values:
        return 0.0
    return 1000 * sorted_values[min(len(sorted_values) - 1, int(len(sorted_values) * q))]


def run(
    host: str,
    port: int,
    request: Request,
    seconds: float,
    threads: int,
    rate: float | None = None,
) -> dict[str, float]:
    """Drive the server for ``seconds`` from ``threads`` connections; rates and latencies.

    ``rate`` (requests/s in all): open loop at that rate; without it, closed loop.
    """
    latencies: list[list[float]] = [[] for _ in range(threads)]
    lags: list[list[float]] = [[] for _ in range(threads)]
    failures = [0] * threads
    start = threading.Barrier(threads + 1)
    stop = threading.Event()
    began = 0.0

    def worker(slot: int) -> None:
        conn = Connection(host, port)
        period = threads / rate if rate else 0.0
        i = slot
        start.wait()
        due = began + period * slot / threads
        try:
            while not stop.is_set():
                if period:
                    pause = due - time.perf_counter()
                    if pause > 0:
                        time.sleep(pause)
                        lags[slot].append(time.perf_counter() - due)
                    sent_at = due
                    due += period
                else:
                    sent_at = time.perf_counter()
                status = conn.call(request(i))
                latencies[slot].append(time.perf_counter() - sent_at)
                if status >= 400:
                    failures[slot] += 1
                i += threads
        finally:
            conn.close()

    pool = [threading.Thread(target=worker, args=(s,)) for s in range(threads)]
    for t in pool:
        t.start()
    began = time.perf_counter()
    start.wait()
    time.sleep(seconds)
    stop.set()
    for t in pool:
        t.join()
    elapsed = time.perf_counter() - began
    every = sorted(x for slot in latencies for x in slot)
    late = sorted(x for slot in lags for x in slot)
    return {
        "requests": len(every),
        "failures": sum(failures),
        "req_per_s": len(every) / elapsed,
        "p50_ms": 1000 * statistics.median(every) if every else 0.0,
        "p99_ms": percentile(every, 0.99),
        "max_ms": 1000 * every[-1] if every else 0.0,
        "client_lag_p50_ms": percentile(late, 0.5),
        "client_lag_p99_ms": percentile(late, 0.99),
        "client_lag_share": len(late) / len(every) if every else 0.0,
    }
