"""``headrace worker``: a process that claims and runs jobs, on a start-up path of its own.

``headrace worker`` imports this module only (``cli.main``), not the rest of the command
(the server's web stack, the client, the engine, Rich's output): a worker process
started in about half the time, and a fleet's workers start claiming together rather
than one draining alone while the others still import.
"""

from __future__ import annotations

import gc
import importlib
import logging
import signal
import threading
from typing import Annotated

import typer

from headrace import config, defaults, errors, logconfig
from headrace.cli.options import Prefetch, StoreUrl, prefetch_or
from headrace.scheduler.registry import DEFAULT
from headrace.scheduler.worker import Worker
from headrace.service import (
    catalog,
    pipeline_job,  # noqa: F401 - registers the pipeline job type
    ticker,
)
from headrace.store.database import Store

#: ``headrace worker`` on its own (``cli.main``); ``cli.app`` mounts the same command.
app = typer.Typer(add_completion=False, context_settings={"show_default": True})


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
    store: StoreUrl = None,
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
    prefetch: Prefetch = None,
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
        running = Worker(
            opened,
            DEFAULT,
            chosen,
            lease_sec=lease_sec,
            labels=offer,
            prefetch=prefetch_or(prefetch, settings.prefetch),
        )
        ticker.attach(running)  # its turns at maintenance fire schedule ticks too
    except (errors.HeadraceError, ImportError) as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None
    done = threading.Event()

    def on_signal(signum: int, _frame: object) -> None:
        done.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    # Start-up (imports, the store, the job types) leaves some 70,000 tracked objects a
    # full collection walks with every thread stopped; the drain's held attempts promote
    # enough to run one every half second (~30 ms each, ~7% of a no-op drain's CPU).
    # As the API server does (``api.server.freeze_start_up``): they live as long as the
    # process anyway, and what the jobs allocate is collected as before.
    gc.collect()
    gc.freeze()
    running.start()
    offered = f", labels {','.join(running.labels)}" if running.labels else ""
    typer.echo(f"worker {running.worker_id} serving {chosen}{offered}", err=True)
    done.wait()
    running.stop()
    opened.close()  # the checkpoint thread's last checkpoint, and the pool
