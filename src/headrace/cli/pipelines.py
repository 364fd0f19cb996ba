"""``headrace pipelines publish|ls|commits``: versioned pipelines on a server or a store."""

from __future__ import annotations

import runpy
from pathlib import Path
from typing import Annotated, Any

import typer

from headrace import errors
from headrace.cli import pipelines_group
from headrace.cli.connect import AsJson, Server, StoreUrl, Token, connect
from headrace.cli.jobs import emit
from headrace.cli.output import emit_one
from headrace.pipeline import Pipeline

pipelines_app = pipelines_group.app

Name = Annotated[str, typer.Argument(help="The published pipeline's name.")]


def load(path: Path, variable: str | None) -> Pipeline:
    """The Pipeline a Python file defines (``variable``, else its only Pipeline).

    Raises:
        InvalidInput: naming ``file`` or ``--variable``.
    """
    try:
        found = runpy.run_path(str(path), run_name="__headrace_publish__")
    except OSError as exc:
        raise errors.InvalidInput("file", f"cannot read {path}: {exc}") from None
    if variable is not None:
        value = found.get(variable)
        if not isinstance(value, Pipeline):
            raise errors.InvalidInput("--variable", f"{path} defines no Pipeline {variable!r}")
        return value
    pipelines = [v for k, v in found.items() if isinstance(v, Pipeline) and not k.startswith("_")]
    if len(pipelines) != 1:
        msg = f"{path} defines {len(pipelines)} Pipelines; name one with --variable"
        raise errors.InvalidInput("--variable", msg)
    return pipelines[0]


@pipelines_app.command()
def publish(
    file: Annotated[Path, typer.Argument(help="A Python file defining the pipeline.")],
    name: Annotated[str, typer.Option("--name", "-n", help="The pipeline's name.")],
    message: Annotated[str, typer.Option("--message", "-m", help="Commit message.")] = "",
    label: Annotated[list[str] | None, typer.Option(help="Label (repeatable).")] = None,
    variable: Annotated[str | None, typer.Option(help="The Pipeline's variable.")] = None,
    project: str = "default",
    server: Server = None,
    token: Token = None,
    store: StoreUrl = None,
    as_json: AsJson = False,
) -> None:
    """Publish the pipeline a file defines as the next commit of NAME."""
    with connect(server, token, store) as client:
        pipeline = load(file, variable)
        commit = client.pipelines.publish(pipeline, name, message, label or [], project=project)
    emit_one(commit, as_json)


@pipelines_app.command("ls")
def ls(
    project: Annotated[str | None, typer.Option(help="Only this project's.")] = None,
    server: Server = None,
    token: Token = None,
    store: StoreUrl = None,
    as_json: AsJson = False,
) -> None:
    """List published pipelines by name."""
    with connect(server, token, store) as client:
        found: list[Any] = client.pipelines.published(project)
    emit(found, ("name", "project", "latest_version", "labels"), as_json, "pipelines")


@pipelines_app.command()
def commits(
    name: Name, server: Server = None, token: Token = None, store: StoreUrl = None,
    as_json: AsJson = False,
) -> None:  # fmt: skip
    """List a pipeline's commits, newest first."""
    with connect(server, token, store) as client:
        found: list[Any] = client.pipelines.commits(name)
    columns = ("version", "message", "labels", "user_id", "created_at_ms")
    emit(found, columns, as_json, f"commits of {name}")
