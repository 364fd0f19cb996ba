"""Options shared by commands on light start-up paths (``headrace worker``, ``server``).

Only Typer and the defaults: ``cli.worker`` imports this, and a worker process must not
import the client or Rich to start (``cli.connect`` re-exports these for client commands).
"""

from __future__ import annotations

from typing import Annotated

import typer

from headrace import defaults

StoreUrl = Annotated[
    str | None,
    typer.Option(
        "--store",
        envvar="HEADRACE_STORE",
        help="Database URL.",
        show_default=f"sqlite file ./{defaults.SQLITE_PATH}",
    ),
]
