"""A worker host on this machine: a network namespace, a veth pair, PostgreSQL across it.

``Host`` makes a namespace whose only way out is a veth pair to this namespace;
``Relay`` listens on this side's veth address and relays each connection to the real
PostgreSQL (which listens on 127.0.0.1 only). A worker started with ``Host.command``
reaches the database over the veth pair alone, so ``Host.cut`` (the link down: packets
vanish, connections hang, as on a pulled cable) cuts it off, and ``Relay.drop_all``
closes every connection at once, as a database restart does.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import queue
import socket
import subprocess
import threading
import time
from collections.abc import Sequence

_serial = itertools.count(1)


def _ip(*args: str) -> None:
    subprocess.run(["ip", *args], check=True, capture_output=True)


class Host:
    """A network namespace joined to this one by a veth pair (root only)."""

    def __init__(self) -> None:
        n = next(_serial)
        tag = f"{os.getpid() % 10000}{n}"
        self.name = f"hr17-{tag}"
        self.outer = f"h17a{tag}"[:15]
        self.inner = f"h17b{tag}"[:15]
        subnet = 100 + (os.getpid() + n) % 150
        self.outer_ip = f"10.217.{subnet}.1"
        self.inner_ip = f"10.217.{subnet}.2"
        _ip("netns", "add", self.name)
        try:
            _ip("link", "add", self.outer, "type", "veth", "peer", "name", self.inner)
            _ip("link", "set", self.inner, "netns", self.name)
            _ip("addr", "add", f"{self.outer_ip}/24", "dev", self.outer)
            _ip("link", "set", self.outer, "up")
            inside = ("netns", "exec", self.name, "ip")
            _ip(*inside, "addr", "add", f"{self.inner_ip}/24", "dev", self.inner)
            _ip(*inside, "link", "set", self.inner, "up")
            _ip(*inside, "link", "set", "lo", "up")
        except subprocess.CalledProcessError:
            self.close()
            raise

    def command(self, argv: Sequence[str]) -> list[str]:
        """``argv`` run inside the namespace (``ip netns exec`` execs it: same pid)."""
        return ["ip", "netns", "exec", self.name, *argv]

    def cut(self) -> None:
        """Take the link down: the host's packets go nowhere, its connections hang."""
        _ip("link", "set", self.outer, "down")

    def restore(self) -> None:
        """Bring the link back: hung connections resume where TCP left them."""
        _ip("link", "set", self.outer, "up")

    def close(self) -> None:
        subprocess.run(["ip", "link", "del", self.outer], capture_output=True, check=False)
        subprocess.run(["ip", "netns", "del", self.name], capture_output=True, check=False)


class Relay:
    """Relays TCP connections from ``(host, port)`` to PostgreSQL on 127.0.0.1."""

    def __init__(
        self, host: str, target: tuple[str, int] = ("127.0.0.1", 5432), delay_sec: float = 0.0
    ) -> None:
        """``delay_sec``: each chunk reaches the other side that much after it was read,
        in each direction (a round trip gains twice it), as a WAN link's latency does.

        This kernel has no ``netem`` qdisc, so the delay is the relay's, in user space, as
        toxiproxy's ``latency`` toxic adds it; packet loss cannot be made this way (TCP
        resends below the relay).
        """
        self.target = target
        self.delay_sec = delay_sec
        self.server = socket.create_server((host, 0))
        self.port = self.server.getsockname()[1]
        self._conns: set[socket.socket] = set()
        self._lock = threading.Lock()
        self._stopped = threading.Event()
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while not self._stopped.is_set():
            try:
                client, _ = self.server.accept()
            except OSError:
                return
            upstream = socket.create_connection(self.target)
            with self._lock:
                self._conns.update((client, upstream))
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(a, b), daemon=True).start()

    def _pump(self, src: socket.socket, dst: socket.socket) -> None:
        if self.delay_sec > 0:
            self._pump_delayed(src, dst)
            return
        try:
            while data := src.recv(65536):
                dst.sendall(data)
        except OSError:
            pass
        for s in (src, dst):
            self._close(s)

    def _pump_delayed(self, src: socket.socket, dst: socket.socket) -> None:
        """Read as it comes; a second thread sends each chunk ``delay_sec`` after its read."""
        chunks: queue.Queue[tuple[float, bytes]] = queue.Queue()

        def send() -> None:
            try:
                while True:
                    due, data = chunks.get()
                    if not data:
                        break
                    time.sleep(max(0.0, due - time.monotonic()))
                    dst.sendall(data)
            except OSError:
                pass
            for s in (src, dst):
                self._close(s)

        threading.Thread(target=send, daemon=True).start()
        try:
            while data := src.recv(65536):
                chunks.put((time.monotonic() + self.delay_sec, data))
        except OSError:
            pass
        chunks.put((time.monotonic() + self.delay_sec, b""))

    def _close(self, s: socket.socket) -> None:
        with self._lock:
            self._conns.discard(s)
        with contextlib.suppress(OSError):
            s.shutdown(socket.SHUT_RDWR)
        s.close()

    def drop_all(self) -> int:
        """Close every relayed connection (as a database restart does); how many."""
        with self._lock:
            conns = list(self._conns)
        for s in conns:
            self._close(s)
        return len(conns)

    def stop(self) -> None:
        self._stopped.set()
        self.server.close()
        self.drop_all()
