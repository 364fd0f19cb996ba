"""The ``headrace pipelines`` command group, which several modules fill.

A module adds its commands with ``@pipelines_group.app.command("name")``; ``cli/app.py``
imports each such module once (for that side effect) and mounts ``app`` under
``pipelines``. Typer builds the group when the command line runs, so commands
registered after the mount still appear.
"""

from __future__ import annotations

import typer

app = typer.Typer(
    help="Pipeline jobs (Jet's list-jobs, save-snapshot, list-snapshots, ...).",
    no_args_is_help=True,
)
