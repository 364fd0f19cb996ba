"""``headrace server``: flags, environment variables and ``config.yaml`` to ServerOptions.

A flag wins over its environment variable, which wins over ``config.yaml``'s ``server``
section (``host``, ``port``, ``workers``, ``api_processes``, ``imports``; ``queues`` and
``labels`` are top-level settings, as for ``headrace worker``), which wins over the defaults.
Modules to import add up: those of ``config.yaml`` and those of ``--import``.
"""

from __future__ import annotations

import logging
from typing import Annotated

import typer

from headrace import config, defaults, errors, logconfig
from headrace.cli.options import Prefetch, StoreUrl, prefetch_or
from headrace.model import labels as job_labels


def server(
    store: StoreUrl = None,
    host: Annotated[
        str | None,
        typer.Option(envvar="HEADRACE_HOST", help="Address to bind.", show_default="127.0.0.1"),
    ] = None,
    port: Annotated[
        int | None, typer.Option(envvar="HEADRACE_PORT", help="Port to bind.", show_default="8000")
    ] = None,
    workers: Annotated[
        int | None,
        typer.Option(
            envvar="HEADRACE_WORKERS",
            help="In-process workers, 0 for an API-only node.",
            show_default="1",
        ),
    ] = None,
    api_processes: Annotated[
        int | None,
        typer.Option(
            envvar="HEADRACE_API_PROCESSES",
            help="Processes serving HTTP on one socket (uvicorn's supervisor); the workers "
            "and maintenance still run once, in the parent.",
            show_default="1",
        ),
    ] = None,
    queues: Annotated[
        str | None,
        typer.Option(envvar="HEADRACE_QUEUES", help="Queues the workers serve, e.g. compute=2."),
    ] = None,
    import_: Annotated[
        list[str] | None,
        typer.Option(
            "--import", envvar="HEADRACE_IMPORT", help="Module registering job types (repeatable)."
        ),
    ] = None,
    insecure_local: Annotated[
        bool,
        typer.Option(
            "--insecure-local",
            envvar="HEADRACE_INSECURE_LOCAL",
            help="Serve the default tenant without tokens (loopback hosts only).",
        ),
    ] = False,
    metrics_all_tenants: Annotated[
        bool,
        typer.Option(
            "--metrics-all-tenants",
            envvar="HEADRACE_METRICS_ALL_TENANTS",
            help="/metrics shows every tenant's job figures to anyone (else: admin tokens).",
        ),
    ] = False,
    labels: Annotated[
        str | None,
        typer.Option(
            envvar="HEADRACE_LABELS",
            help="Labels the workers offer, e.g. gpu,eu: they take jobs requiring no others.",
            show_default="config.yaml's",
        ),
    ] = None,
    lease_sec: Annotated[
        float, typer.Option(help="Lease of a claim, renewed every third.")
    ] = defaults.LEASE_SEC,
    prefetch: Prefetch = None,
    config_file: Annotated[
        str | None, typer.Option("--config", help="config.yaml to read.")
    ] = None,
) -> None:
    """Run the REST API (and, unless --workers 0, workers) until SIGINT or SIGTERM.

    config.yaml may hold a `server:` section with host, port, workers, api_processes and
    imports.
    """
    # Imported here: cli.app registers this command (a cycle), and the web stack is heavy
    # for the other commands.
    from headrace.api.server import Server, ServerOptions
    from headrace.cli.worker import parse_queues

    try:
        settings = config.load(config_file)
        logconfig.configure(settings.job_logger)
        logging.basicConfig(level=logging.INFO, format=logconfig.FORMAT)
        chosen = settings.server
        imports = [*chosen.imports, *(m for m in import_ or [] if m not in chosen.imports)]
        options = ServerOptions(
            store=store or settings.store,
            host=chosen.host if host is None else host,
            port=chosen.port if port is None else port,
            workers=chosen.workers if workers is None else workers,
            api_processes=chosen.api_processes if api_processes is None else api_processes,
            queues=parse_queues(queues, settings.queues),
            imports=imports,
            insecure_local=insecure_local,
            metrics_all_tenants=metrics_all_tenants,
            lease_sec=lease_sec,
            labels=job_labels.parse("labels", settings.labels if labels is None else labels),
            prefetch=prefetch_or(prefetch, settings.prefetch),
        )
        running = Server(options)
    except (errors.HeadraceError, ImportError) as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None
    running.run()
