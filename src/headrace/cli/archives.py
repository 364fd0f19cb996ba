"""``headrace jobs export|import``: jobs to one ZIP archive and back, with a progress bar.

The commands join ``headrace jobs``; they share its connection and output options.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Literal

import typer

from headrace import defaults, errors
from headrace.cli import progress as bars
from headrace.cli.connect import AsJson, Server, StoreUrl, Token, connect, resolve
from headrace.cli.jobs import JOB_COLUMNS
from headrace.cli.output import emit_json, table

Choice = Literal["keep", "reset"]


def export(
    job_ids: Annotated[list[str], typer.Argument(help="Job ids, or their first characters.")],
    output: Annotated[Path, typer.Option("--output", "-o", help="The archive to write.")] = Path(
        "jobs.zip"
    ),
    offsets: Annotated[bool, typer.Option(help="Include each job's offsets.")] = False,
    quiet: Annotated[bool, typer.Option(help="No progress bar.")] = False,
    server: Server = None,
    token: Token = None,
    store: StoreUrl = None,
) -> None:
    """Export jobs, the pipeline commits they pin (and offsets) to one ZIP archive."""
    with connect(server, token, store) as client, bars.bar(quiet) as shown:
        task = shown.add_task(f"exporting {len(job_ids)} job(s)", total=len(job_ids) + 1)
        ids = []
        for job_id in job_ids:
            ids.append(resolve(client, job_id))
            shown.advance(task)
        data = client.archives.export_jobs(ids, offsets=offsets)
        output.write_bytes(data)
        shown.update(task, completed=len(job_ids) + 1, description=f"wrote {output}")
    typer.echo(f"{output}: {len(ids)} job(s), {len(data)} bytes")


def import_(
    archive: Annotated[Path, typer.Argument(help="The archive (`headrace jobs export`).")],
    offsets: Annotated[
        Choice, typer.Option(help="keep: first runs continue from the archive's offsets.")
    ] = "keep",
    parameters: Annotated[
        Choice, typer.Option(help="reset: import without runtime parameters and sets.")
    ] = "keep",
    project: Annotated[str | None, typer.Option(help="Import every job here.")] = None,
    quiet: Annotated[bool, typer.Option(help="No progress bar.")] = False,
    server: Server = None,
    token: Token = None,
    store: StoreUrl = None,
    as_json: AsJson = False,
) -> None:
    """Import an archive's jobs and commits (new ids, you as owner), all or nothing."""
    with connect(server, token, store) as client, bars.bar(quiet) as shown:
        data = _read(archive)
        task = shown.add_task(f"importing {archive.name}", total=None)

        def report(what: str, done: int, total: int) -> None:
            shown.update(task, completed=done, total=total, description=f"{what} {archive.name}")

        found = client.archives.import_jobs(
            data, offsets=offsets, parameters=parameters, project=project, progress=report
        )
        shown.update(task, completed=1, total=1, description=f"imported {len(found)} job(s)")
    if as_json:
        emit_json(found)
    else:
        table(found, JOB_COLUMNS, f"imported {len(found)} job(s) from {archive}")


def _read(path: Path) -> bytes:
    """The archive's bytes (refused, not read, when larger than an archive may be)."""
    try:
        size = path.stat().st_size
        if size > defaults.MAX_ARCHIVE_BYTES:
            msg = f"is over {defaults.MAX_ARCHIVE_BYTES} bytes"
            raise errors.InvalidArchive("archive", msg)
        return path.read_bytes()
    except OSError as exc:
        raise errors.InvalidInput("archive", f"cannot read {path}: {exc.strerror}") from None


COMMANDS: dict[str, Callable[..., None]] = {"export": export, "import": import_}
