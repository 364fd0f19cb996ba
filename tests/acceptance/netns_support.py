"""A worker host on this machine: a network namespace, a veth pair, PostgreSQL across it.

``Host`` makes a namespace whose only way out is a veth pair to this namespace;
``Relay`` listens on this side's veth address and relays each connection to the real
PostgreSQL (which listens on 127.0.0.1 only). A worker started with ``Host.command``
reaches the database over the veth pair alone, so ``Host.cut`` (the link down: packets
vanish, connections hang, as on a pulled cable) cuts it off, and ``Relay.drop_all``
closes every connection at once, as a database restart does. ``Host.lose`` drops a share of
the link's packets each way in the kernel (nftables in the namespace: this kernel has no
``netem`` qdisc), so TCP itself loses and resends segments, and ``Host.loss`` counts them.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import os
import queue
import socket
import subprocess
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass

_serial = itertools.count(1)


def _ip(*args: str) -> None:
    subprocess.run(["ip", *args], check=True, capture_output=True)


@dataclass(frozen=True)
class Loss:
    """Packets on the host's link as its nftables counters saw them, and TCP's resends."""

    #: Packets the rules dropped, leaving the host (``out``) and arriving at it (``in``).
    dropped_out: int
    dropped_in: int
    #: Packets that went through, each way.
    passed_out: int
    passed_in: int
    #: TCP segments the host's kernel sent again (``RetransSegs``, its namespace's own).
    retransmitted: int

    def share(self, dropped: int, passed: int) -> float:
        """The dropped share of one direction's packets."""
        return dropped / max(1, dropped + passed)


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
        #: ``lose``'s nftables table (one in this namespace, one in the host's).
        self.table = f"hr17loss{tag}"
        self._lossy = False
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

    def lose(self, percent: int) -> None:
        """Drop ``percent`` % of the link's packets each way, at random, on arrival.

        An nftables ``ingress`` chain on each end of the veth pair (``netdev`` family:
        the device's own, so nothing else on this machine is touched) drops at random,
        with a counter, and counts what it lets through. Dropped on arrival, a packet is
        lost on the wire as far as its sender knows: TCP notices only by the missing
        acknowledgement and resends, as over a lossy network (a drop in the sender's own
        output path would be reported back to its TCP at once). Needs ``nft`` (Debian's
        ``nftables``).
        """
        for nft, device, chain in (
            ([], self.outer, "out"),  # leaving the host: arrives here, on this side's end
            (self.command([]), self.inner, "in"),  # arriving at the host: on its end
        ):
            steps = [
                ["add", "table", "netdev", self.table],
                ["add", "chain", "netdev", self.table, chain,
                 "{", "type", "filter", "hook", "ingress", "device", device, "priority", "0",
                 ";", "}"],
                ["add", "rule", "netdev", self.table, chain,
                 "numgen", "random", "mod", "100", "<", str(percent), "counter", "drop"],
                ["add", "rule", "netdev", self.table, chain, "counter", "accept"],
            ]  # fmt: skip
            for step in steps:
                subprocess.run([*nft, "nft", *step], check=True, capture_output=True)
        self._lossy = True

    def _counters(self, nft: list[str]) -> dict[tuple[str, str], int]:
        listed = subprocess.run(
            [*nft, "nft", "-j", "list", "table", "netdev", self.table],
            check=True,
            capture_output=True,
            text=True,
        ).stdout
        counted: dict[tuple[str, str], int] = {}
        for item in json.loads(listed)["nftables"]:
            rule = item.get("rule")
            if rule is None:
                continue
            verdict = "drop" if any("drop" in e for e in rule["expr"]) else "accept"
            packets = next(e["counter"]["packets"] for e in rule["expr"] if "counter" in e)
            counted[rule["chain"], verdict] = packets
        return counted

    def loss(self) -> Loss:
        """What ``lose``'s rules counted so far, and the host's TCP resends."""
        counted = {**self._counters([]), **self._counters(self.command([]))}
        snmp = subprocess.run(
            self.command(["cat", "/proc/net/snmp"]), check=True, capture_output=True, text=True
        ).stdout
        tcp = [line.split()[1:] for line in snmp.splitlines() if line.startswith("Tcp:")]
        retransmitted = int(dict(zip(tcp[0], tcp[1], strict=True))["RetransSegs"])
        return Loss(
            dropped_out=counted["out", "drop"],
            dropped_in=counted["in", "drop"],
            passed_out=counted["out", "accept"],
            passed_in=counted["in", "accept"],
            retransmitted=retransmitted,
        )

    def close(self) -> None:
        if self._lossy:  # this side's table outlives the device its chain hooked
            subprocess.run(
                ["nft", "delete", "table", "netdev", self.table], capture_output=True, check=False
            )
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
        resends below the relay): ``Host.lose`` drops packets on the link instead.
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
