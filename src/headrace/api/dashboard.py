"""The dashboard at ``/``: the page and the static files of ``headrace/web/static``.

The dashboard is a client of this API like any other: its JavaScript calls the REST
routes with the token the user signs in with. The server only hands out the files;
``web`` sits above ``api`` in the layers, so it is found as package data, not imported.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

#: The dashboard's files (HTML, CSS, JavaScript, vendored libraries), shipped in the wheel.
STATIC = Path(__file__).resolve().parent.parent / "web" / "static"
#: Where the files are served.
PREFIX = "/ui"
#: The page and its scripts load only from this server: no network at run time.
POLICY = (
    "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; "
    "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
)
PAGE = (STATIC / "index.html").read_text(encoding="utf-8")


def install(app: FastAPI) -> None:
    """Serve the dashboard's static files under ``PREFIX``."""
    app.mount(PREFIX, StaticFiles(directory=STATIC), name="dashboard")
