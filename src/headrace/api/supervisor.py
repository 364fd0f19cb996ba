"""The parent of ``--api-processes N``: uvicorn's supervisor, noticing a dead process at once.

uvicorn's ``Multiprocess`` (0.55) checks its processes one after the other, each with a
blocking health ping (``Process.is_alive``: a ping, then up to ``timeout_worker_healthcheck``
for the answer). A process killed while its ping was out is found dead only when that
wait ends, since the parent holds the pipe's other end too and so never reads EOF; and
while it waits on one process it looks at none of the others. With our health-check
bound (``processes.HEALTHCHECK_SEC``, 60 s) a killed API process could go unreplaced for
a minute, the socket served by one process fewer.

``Supervisor`` subclasses it and replaces only that check (``keep_subprocess_alive``),
made non-blocking: at every tick of uvicorn's loop (0.5 s) a process that has exited is
replaced at once, whatever its ping; each live one has at most one ping out, whose answer
is read when it is there; one that leaves a ping unanswered for the health-check bound
is killed as hung and replaced, as uvicorn does. Start, signals (SIGHUP restarts,
SIGTTIN/SIGTTOU), and stop stay uvicorn's.
"""

from __future__ import annotations

import pickle
import sys
import time
from socket import socket

from uvicorn.config import STARTUP_FAILURE, Config
from uvicorn.supervisors.multiprocess import Multiprocess, Process


class Supervisor(Multiprocess):
    """uvicorn's ``Multiprocess`` whose liveness check never blocks (see the module)."""

    def __init__(self, config: Config, sockets: list[socket]) -> None:
        """As uvicorn's: ``config.workers`` processes serving ``sockets``."""
        super().__init__(config, sockets)
        #: Each process's ping still unanswered: when it was sent (``time.monotonic``).
        self._pinged: dict[Process, float] = {}

    def keep_subprocess_alive(self) -> None:
        """Replace processes that exited or leave a ping unanswered too long; ping the rest."""
        if self.should_exit.is_set():
            return  # stopping: uvicorn's ``run`` terminates and joins them
        pinged = self._pinged
        for gone in [p for p in pinged if p not in self.processes]:
            del pinged[gone]  # replaced by a SIGHUP restart or removed by SIGTTOU
        for idx, process in enumerate(self.processes):
            if process.process.is_alive() and self._answers(process, pinged):
                continue
            pinged.pop(process, None)
            hung = process.exitcode is None
            process.kill()  # a no-op on one that exited, which ``join`` reaps
            process.join()
            if process.exitcode == STARTUP_FAILURE:
                # As uvicorn: an app that fails before it serves fails the same way again.
                print(
                    f"headrace: API process {process.pid} failed to start; stopping",
                    file=sys.stderr,
                    flush=True,
                )
                self.should_exit.set()
                return
            if self.should_exit.is_set():
                return
            why = "did not answer its health check" if hung else f"exited ({process.exitcode})"
            replacement = Process(self.config, self.sockets)
            replacement.start()
            self.processes[idx] = replacement
            print(
                f"headrace: API process {process.pid} {why}; "
                f"started API process {replacement.pid} in its place",
                file=sys.stderr,
                flush=True,
            )

    def _answers(self, process: Process, pinged: dict[Process, float]) -> bool:
        """Whether ``process`` (alive) is to be kept: it answered, or may still answer.

        Sends a ping when none is out; reads the answer without waiting for it.
        """
        conn = process.parent_conn
        try:
            if process not in pinged:
                conn.send(b"ping")
                pinged[process] = time.monotonic()
            if conn.poll(0):
                conn.recv()  # its server's "started" flag: any answer means it lives
                del pinged[process]
                return True
        except (OSError, EOFError, pickle.UnpicklingError):
            return False
        return time.monotonic() - pinged[process] < self.config.timeout_worker_healthcheck
