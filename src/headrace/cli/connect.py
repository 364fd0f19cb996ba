"""The options every client command shares, and the client they pick: server or store.

One spelling everywhere: ``--server`` (``$HEADRACE_SERVER``) names a ``headrace server``,
with ``--token`` (``$HEADRACE_TOKEN``); without it, ``--store`` (``$HEADRACE_STORE``)
names the database, the embedded SQLite file by default. ``headrace submit`` and a
script's ``headrace.Client()`` read the same variables.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from typing import Annotated

import typer
from rich.console import Console

from headrace import errors
from headrace.cli.options import StoreUrl as StoreUrl
from headrace.client import embedded, remote

Server = Annotated[
    str | None,
    typer.Option(
        "--server",
        envvar="HEADRACE_SERVER",
        help="Server URL, e.g. http://127.0.0.1:8000.",
        show_default="none: use --store",
    ),
]
#: The older name of ``Server`` (one option, ``--server``).
Url = Server
Token = Annotated[
    str | None, typer.Option(envvar="HEADRACE_TOKEN", help="Bearer token for --server.")
]
AsJson = Annotated[bool, typer.Option("--json", help="Print JSON (for scripts).")]
JobId = Annotated[
    str, typer.Argument(help="The job's id, or its first characters (as `jobs ls` shows).")
]

Backend = embedded.Client | remote.Client


@contextmanager
def connect(server: str | None, token: str | None, store: str | None) -> Iterator[Backend]:
    """A client of ``server`` if given, else of ``store``; Headrace errors end the command.

    An error prints ``error: ...`` on stderr and exits with status 1.
    """
    client: Backend | None = None
    try:
        if server:
            if not remote.is_remote(server):
                msg = f"must be an http:// or https:// URL, got {server!r}"
                raise errors.InvalidInput("--server", msg)
            client = remote.Client(server, token=token)
        else:
            with opening_store():
                # A command runs no pipeline here: no engine workers to start ahead.
                client = embedded.Client(store, run_workers=False, warm_pool=False)
        yield client
    except errors.HeadraceError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1) from None
    finally:
        if client is not None:
            client.close()


def opening_store() -> AbstractContextManager[object]:
    """A spinner on stderr (on a terminal) while a store opens and, if new, migrates."""
    if not sys.stderr.isatty():
        return nullcontext()
    return Console(stderr=True).status("opening the store (creating its tables if new)")


def resolve(client: Backend, job_id: str) -> str:
    """The full id of the job ``job_id`` names (a full id or a unique prefix).

    Raises:
        InvalidInput: not hex digits. NotFound: no job of the tenant matches.
        Conflict: a prefix several jobs' ids start with.
    """
    return client.jobs.resolve(job_id)
