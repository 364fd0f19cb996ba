"""Options shared by commands on light start-up paths (``headrace worker``, ``server``).

Only Typer and the defaults: ``cli.worker`` imports this, and a worker process must not
import the client or Rich to start (``cli.connect`` re-exports these for client commands).
"""

from __future__ import annotations

from typing import Annotated

import typer

from headrace import defaults, errors
from headrace.model import prefetch as prefetching

StoreUrl = Annotated[
    str | None,
    typer.Option(
        "--store",
        envvar="HEADRACE_STORE",
        help="Database URL.",
        show_default=f"sqlite file ./{defaults.SQLITE_PATH}",
    ),
]


def prefetch_or(text: str | None, configured: prefetching.Setting) -> prefetching.Setting:
    """``--prefetch auto|N`` as a setting, ``configured`` (config.yaml's) without it."""
    if text is None:
        return configured
    number = text.removeprefix("-").isdecimal()  # isdigit would pass "²", which int refuses
    return prefetching.parse(int(text) if number else text, "--prefetch")


def _check_prefetch(text: str | None) -> str | None:
    """Refuse a bad ``--prefetch`` before the command starts (exit code 2, naming it)."""
    try:
        prefetch_or(text, prefetching.AUTO)
    except errors.InvalidInput as exc:
        raise typer.BadParameter(str(exc), param_hint="--prefetch") from None
    return text


Prefetch = Annotated[
    str | None,
    typer.Option(
        "--prefetch",
        callback=_check_prefetch,
        metavar="auto|N",
        help="Jobs each queue holds claimed beyond its capacity, waiting for a slot: N, or "
        "auto (what the slots should start within 0.1 s; long jobs get none).",
        show_default="config.yaml's, else auto",
    ),
]
