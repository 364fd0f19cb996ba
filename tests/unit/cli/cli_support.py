"""Run ``headrace`` commands in-process with Typer's CliRunner, on a real store."""

from __future__ import annotations

import time
from typing import Any

from typer.testing import CliRunner, Result

from headrace.cli.app import app

RUNNER = CliRunner()


def run(*args: str, input: str | None = None) -> Result:
    """The result of ``headrace ARGS`` (stderr kept apart from stdout)."""
    return RUNNER.invoke(app, list(args), input=input, catch_exceptions=False)


def wait_for(predicate: Any, timeout: float = 30, what: str = "condition") -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.02)
