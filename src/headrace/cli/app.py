"""The ``headrace`` command: workers, the server, submit, jobs, tokens, and the demo."""

from __future__ import annotations

import importlib
import logging
import signal
import sys
import threading
from importlib import metadata
from typing import Annotated

import typer

from headrace import config, defaults, errors, logconfig
from headrace.scheduler.registry import DEFAULT
from headrace.scheduler.worker import Worker
from headrace.service import (
    catalog,
    pipelines,  # noqa: F401 - registers the pipeline job type
    ticker,
)
from headrace.store.database import Store

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


def parse_queues(text: str | None, configured: dict[str, int]) -> dict[str, int]:
    """Queues from ``compute,download=4``: a name alone keeps its configured capacity.

    Raises:
        InvalidInput: for an unknown queue without a capacity, or a bad capacity.
    """
    if not text:
        return dict(configured)
    chosen: dict[str, int] = {}
    for part in (p.strip() for p in text.split(",") if p.strip()):
        name, _, capacity = part.partition("=")
        if capacity:
            if not capacity.isdigit() or int(capacity) < 1:
                raise errors.InvalidInput("queues", f"capacity of {name!r} must be an int >= 1")
            chosen[name] = int(capacity)
        elif name in configured:
            chosen[name] = configured[name]
        else:
            raise errors.InvalidInput("queues", f"queue {name!r} has no capacity; write {name}=N")
    return chosen


@app.command()
def worker(
    store: Annotated[
        str | None,
        typer.Option(
            envvar="HEADRACE_STORE",
            help="Database URL.",
            show_default=f"sqlite file ./{defaults.SQLITE_PATH}",
        ),
    ] = None,
    queues: Annotated[
        str | None,
        typer.Option(
            help="Queues to serve, e.g. compute,download=4.", show_default="config.yaml's"
        ),
    ] = None,
    import_: Annotated[
        list[str] | None,
        typer.Option("--import", help="Module registering job types (repeatable)."),
    ] = None,
    lease_sec: Annotated[
        float, typer.Option(help="Lease of a claim, renewed every third.")
    ] = defaults.LEASE_SEC,
    config_file: Annotated[
        str | None, typer.Option("--config", help="config.yaml to read.")
    ] = None,
    labels: Annotated[
        str | None,
        typer.Option(
            envvar="HEADRACE_LABELS",
            help="Labels this worker offers, e.g. gpu,eu: it takes jobs requiring no others.",
            show_default="config.yaml's",
        ),
    ] = None,
) -> None:
    """Run a worker process: claim jobs of the imported job types and run them."""
    try:
        settings = config.load(config_file)
        logconfig.configure(settings.job_logger)
        logging.basicConfig(level=logging.INFO, format=logconfig.FORMAT)
        for module in import_ or []:
            importlib.import_module(module)
        chosen = parse_queues(queues, settings.queues)
        # A long-lived process on the job hot path, like the server: on SQLite its commits
        # leave WAL checkpoints to a thread (store/wal_checkpoints.py) instead of copying
        # the WAL into the file while they hold the write lock every 1,000 pages.
        opened = Store(store or settings.store, background_checkpoints=True)
        catalog.store_declared(opened, DEFAULT)
        offer = settings.labels if labels is None else labels
        running = Worker(opened, DEFAULT, chosen, lease_sec=lease_sec, labels=offer)
        ticker.attach(running)  # its turns at maintenance fire schedule ticks too
    except (errors.HeadraceError, ImportError) as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None
    done = threading.Event()

    def on_signal(signum: int, _frame: object) -> None:
        done.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    running.start()
    offered = f", labels {','.join(running.labels)}" if running.labels else ""
    typer.echo(f"worker {running.worker_id} serving {chosen}{offered}", err=True)
    done.wait()
    running.stop()
    opened.close()  # the checkpoint thread's last checkpoint, and the pool


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
    """Entry point of the ``headrace`` console script."""
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
