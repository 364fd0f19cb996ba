"""``headrace server --api-processes N``: N uvicorn processes serving HTTP on one socket.

The parent binds the socket and supervises N API processes with uvicorn's
``Multiprocess`` supervisor, made to notice a dead one at once (``supervisor``): it
replaces one that dies, and on SIGINT/SIGTERM stops them all and waits for them. Each
API process runs the app of an API-only ``Server`` over its own connection pool to the
one store: HTTP only, no job workers, no maintenance.
The job workers (``--workers``) and, with them, the one maintenance ticker run once, in
the parent, so N does not multiply background work. A job an API process schedules
reaches the parent's workers as a job scheduled by any other process does: PostgreSQL
notifies them; on SQLite they poll (within ``defaults.IDLE_POLL_MAX_SEC``).

API processes start with ``spawn`` (fresh interpreters): each imports the ``--import``
modules itself, so only job types those modules register (``DEFAULT``) are served.
"""

from __future__ import annotations

import functools
import os
import signal
import sys
import threading
import time
from dataclasses import replace
from types import FrameType
from typing import TYPE_CHECKING, Any

import uvicorn
from fastapi import FastAPI

from headrace.api import supervisor

#: How often an API process checks that its parent lives.
PARENT_CHECK_SEC = 0.5
#: How long the supervisor waits for an API process to answer its health check before it
#: kills the process as hung and starts another. uvicorn's default, 5 s, also bounds a new
#: process's start (the answering thread starts only once the spawned interpreter has
#: imported the app's modules), and under load a start takes longer: with the API
#: processes held to a fifth of a CPU every new one was killed at 5.5 s and replaced by
#: one just as slow, so only one process ever served. A hung process is still replaced,
#: later; a process that answers is never held up by this.
HEALTHCHECK_SEC = 60

if TYPE_CHECKING:
    from headrace.api.server import Server, ServerOptions


def api_process_app(options: ServerOptions) -> FastAPI:
    """The app of one API process (uvicorn calls this in the child, as a factory).

    Its SIGINT/SIGTERM handler, uvicorn's, is wrapped so that the signal first sets the
    app's ``stopping`` event: event streams end at once rather than hold the graceful
    shutdown for its whole period (what ``server._Uvicorn`` does in one process).
    """
    from headrace import collector
    from headrace.api.server import Server

    server = Server(replace(options, workers=0, api_processes=1), api_process=True)
    app = server.app
    collector.freeze_start_up()
    for sig in (signal.SIGINT, signal.SIGTERM):
        previous = signal.getsignal(sig)
        if callable(previous):
            signal.signal(sig, functools.partial(_stop_then, app, previous))
    parent = os.getppid()
    threading.Thread(
        target=_stop_without, args=(parent,), name="headrace-parent", daemon=True
    ).start()
    return app


def _stop_without(parent: int) -> None:
    """SIGTERM this API process once its parent is gone (killed with SIGKILL, say).

    Without it the orphan would go on serving the socket with no supervisor and no
    workers behind it.
    """
    while os.getppid() == parent:
        time.sleep(PARENT_CHECK_SEC)
    os.kill(os.getpid(), signal.SIGTERM)


def _stop_then(app: FastAPI, previous: Any, sig: int, frame: FrameType | None) -> None:
    """Set ``app.state.stopping``, then run the handler this one wraps."""
    app.state.stopping.set()
    previous(sig, frame)


def run(server: Server, config_kwargs: dict[str, Any]) -> None:
    """Serve ``server.options.api_processes`` API processes until SIGINT or SIGTERM.

    ``server`` is the parent's: its workers (if any) run here for the whole time.
    """
    options = server.options
    config = uvicorn.Config(
        functools.partial(api_process_app, options),
        factory=True,
        workers=options.api_processes,
        timeout_worker_healthcheck=HEALTHCHECK_SEC,
        **config_kwargs,
    )
    socket = config.bind_socket()
    # Not uvicorn's ``Multiprocess`` itself: it could take a minute to notice that an API
    # process died (``supervisor`` says why); the subclass notices within its 0.5 s tick.
    parent = supervisor.Supervisor(config, sockets=[socket])
    server.start()
    try:
        parent.run()
    finally:
        server.stop()
        socket.close()
    print("headrace server stopped", file=sys.stderr, flush=True)
