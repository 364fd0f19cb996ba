"""The ``headrace`` command: workers, the server, submit, jobs, tokens, and the demo."""

from __future__ import annotations

import sys
from importlib import metadata
from typing import Annotated

import typer

from headrace import defaults
from headrace.cli import worker as _worker
from headrace.cli.worker import parse_queues as parse_queues

app = typer.Typer(
    help="Headrace: data pipelines and durable jobs.",
    no_args_is_help=True,
    context_settings={"show_default": True},
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"headrace {metadata.version('headrace')}")
        raise typer.Exit


@app.callback()
def main_options(
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_version, is_eager=True, help="Print the version and exit."
        ),
    ] = False,
) -> None:
    """Headrace: data pipelines and durable jobs.

    Commands that read or control jobs talk to a server with --server URL (or
    $HEADRACE_SERVER) and --token, else to the store (--store, default the SQLite file
    under ./.headrace).
    """


# ``headrace worker`` lives in its own module: ``cli.main`` starts it without this one.
app.command("worker")(_worker.worker)


@app.command()
def demo(
    jobs: Annotated[int, typer.Option(help="How many demo jobs to schedule.")] = 20,
    store: Annotated[
        str | None,
        typer.Option(help="Database URL.", show_default=f"sqlite file ./{defaults.SQLITE_PATH}"),
    ] = None,
) -> None:
    """Schedule demo jobs on the embedded store, run them in-process, show their progress."""
    from headrace.cli import demo as demo_module

    demo_module.run(jobs, store)


def main() -> None:
    """The whole command (``cli.main`` is the console script's entry point)."""
    sys.path.insert(0, "")
    app()


# The server, token, job, queue and pipeline commands live in their own modules.
from headrace.cli import archives as _archives  # noqa: E402
from headrace.cli import definitions as _definitions  # noqa: E402
from headrace.cli import jobs as _jobs  # noqa: E402
from headrace.cli import ops as _ops  # noqa: E402
from headrace.cli import pipeline_jobs as _pipeline_jobs  # noqa: E402, F401 - fills pipelines
from headrace.cli import pipelines as _pipelines  # noqa: E402, F401 - fills pipelines
from headrace.cli import pipelines_group as _pipelines_group  # noqa: E402
from headrace.cli import schedules as _schedules  # noqa: E402
from headrace.cli import server as _server  # noqa: E402
from headrace.cli import submit as _submit  # noqa: E402
from headrace.cli import tokens as _tokens  # noqa: E402

app.command("server")(_server.server)
app.command("submit", context_settings=_submit.CONTEXT)(_submit.submit)
app.add_typer(_tokens.app, name="tokens")
app.add_typer(_jobs.jobs_app, name="jobs")
app.add_typer(_jobs.types_app, name="job-types")
app.add_typer(_jobs.groups_app, name="job-groups")
for _name, _command in {**_definitions.COMMANDS, **_archives.COMMANDS}.items():
    _jobs.jobs_app.command(_name)(_command)
app.add_typer(_ops.queues_app, name="queues")
app.add_typer(_ops.workers_app, name="workers")
# Modules adding to ``headrace pipelines`` are imported above; the group is mounted once.
app.add_typer(_pipelines_group.app, name="pipelines")
app.add_typer(_schedules.app, name="schedules")
