"""``headrace submit FILE.py``: run a file that builds and submits pipelines (``jet submit``).

The file runs as ``python FILE.py [ARGS]`` would, in a child process, with
``$HEADRACE_SERVER`` and ``$HEADRACE_TOKEN`` set from ``--server`` and ``--token``: its
``headrace.Client()`` (one naming no store) is then the remote client of that server,
so ``client.get_jet().submit(pipeline)`` and ``client.run(pipeline)`` run on the
server's workers. The file's own functions travel by value (it runs as ``__main__``).
Without a server, ``Client()`` is the embedded client of the file's working directory.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Annotated

import typer

from headrace.cli import submitted
from headrace.client import remote

#: Typer settings that pass options the command does not know on to the file.
CONTEXT = {"allow_extra_args": True, "ignore_unknown_options": True}


def submit(
    ctx: typer.Context,
    file: Annotated[
        Path,
        typer.Argument(
            exists=True, dir_okay=False, help="A Python file that builds and submits pipelines."
        ),
    ],
    server: Annotated[
        str | None,
        typer.Option(
            "--server",
            envvar="HEADRACE_SERVER",
            help="Server the file's Client() talks to (else: the embedded store).",
        ),
    ] = None,
    token: Annotated[
        str | None, typer.Option(envvar="HEADRACE_TOKEN", help="Bearer token for --server.")
    ] = None,
    wait: Annotated[
        bool,
        typer.Option(
            "--wait",
            help="Then wait for the pipeline jobs the file submitted, with progress bars.",
        ),
    ] = False,
    timeout: Annotated[
        float | None, typer.Option(help="With --wait: give up after this many seconds.")
    ] = None,
    no_workers: Annotated[
        bool,
        typer.Option(
            "--no-workers",
            help="Embedded clients of the file only schedule: `headrace worker` runs the jobs.",
        ),
    ] = False,
) -> None:
    """Run FILE.py [ARGS] with its headrace.Client() pointing at --server.

    Like `jet submit`: the file builds a pipeline and submits it, for example with
    `Client().get_jet().submit(pipeline)` or `Client().run(pipeline)`.

    With `--server URL --token T` (or $HEADRACE_SERVER and $HEADRACE_TOKEN), a Client()
    that names no store is the remote client of that server: the job runs on its
    workers, and the file's functions travel to them by value. Without a server it is
    the embedded client of the working directory.

    Arguments after FILE.py go to the file; the command exits with the file's exit code.
    With --wait it then waits for the pipeline jobs the file submitted (to a server;
    an embedded file's jobs end with it) and exits 1 unless all of them completed.
    """
    env = dict(os.environ)
    if server:
        if not remote.is_remote(server):
            typer.echo(
                f"error: --server: must be an http:// or https:// URL, got {server!r}", err=True
            )
            raise typer.Exit(2)
        env["HEADRACE_SERVER"] = server
    else:
        env.pop("HEADRACE_SERVER", None)
    if token:
        env["HEADRACE_TOKEN"] = token
    if no_workers:
        env["HEADRACE_RUN_WORKERS"] = "0"
    where = server or "the embedded store"
    before = submitted.newest(server, token) if wait else None
    typer.echo(f"headrace submit: running {file} against {where}", err=True)
    done = subprocess.run([sys.executable, str(file), *ctx.args], env=env, check=False)
    if done.returncode != 0 or before is None:
        raise typer.Exit(done.returncode)
    raise typer.Exit(submitted.wait_for_new(server, token, before, timeout))
