"""The ``headrace`` command's entry point: ``headrace worker`` alone, or the whole command.

A worker process needs one command; importing every other (``cli.app``: the server's web
stack, the client, the engine, Rich) cost it more than half its start-up.
"""

from __future__ import annotations

import sys


def main() -> None:
    """Entry point of the ``headrace`` console script and of ``python -m headrace``."""
    sys.path.insert(0, "")
    if sys.argv[1:2] == ["worker"]:
        from headrace.cli import worker

        worker.app(args=sys.argv[2:], prog_name="headrace worker")
        return
    from headrace.cli import app

    app.app()
