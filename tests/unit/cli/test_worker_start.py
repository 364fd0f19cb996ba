"""``headrace worker`` starts on a path of its own: what its process imports.

A worker process imports the worker and the store; not the rest of the command (web
stack, client, engine, Rich), nor Alembic when its store is migrated already, nor
jsonschema before a job needs it; nor SQLAlchemy's ORM (the schema is Core tables), nor
pydantic and PyYAML without a config file, nor process isolation (multiprocessing,
cloudpickle) before its first isolated job. Each was a share of the start-up in which a
fleet's first worker drained alone while the others still imported.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from headrace.store.database import Store

#: Modules (and their submodules) a worker process must not import to start.
NOT_AT_START = (
    "alembic",
    "cloudpickle",
    "fastapi",
    "headrace.api",
    "headrace.client",
    "headrace.config_file",
    "headrace.engine",
    "headrace.pipeline",
    "headrace.scheduler.isolation",
    "headrace.service.jobs",
    "headrace.service.pipeline_runner",
    "httpx",
    "jsonschema",
    "multiprocessing",
    "pydantic",
    "rich",
    "sqlalchemy.orm",
    "uvicorn",
    "yaml",
)

SCRIPT = """
import json, sys
from headrace.cli import worker
from headrace.scheduler.registry import DEFAULT
from headrace.service import catalog
from headrace.store.database import Store

store = Store(sys.argv[1], background_checkpoints=True)
catalog.store_declared(store, DEFAULT)
assert DEFAULT.get("headrace.pipeline") is not None  # registered, runner not imported
store.close()
print(json.dumps(sorted(sys.modules)))
"""


def test_a_worker_process_starts_without_the_rest_of_the_command(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/x.db"
    Store(url).close()  # migrated, as a worker's store is
    out = subprocess.run(
        [sys.executable, "-c", SCRIPT, url], capture_output=True, text=True, check=True
    )
    loaded = json.loads(out.stdout)
    heavy = [m for m in loaded if m.split(".")[0] in NOT_AT_START or m.startswith(NOT_AT_START)]
    assert heavy == []


@pytest.mark.parametrize("bad", ["-1", "many", "1.5", "AUTO", "", "²", "--1", "1\x00"])
def test_a_bad_prefetch_is_refused_naming_it(tmp_path: Path, bad: str) -> None:
    from typer.testing import CliRunner

    from headrace.cli.worker import app

    url = f"sqlite:///{tmp_path}/x.db"
    result = CliRunner().invoke(app, ["--store", url, "--prefetch", bad])
    assert result.exit_code == 2
    assert "--prefetch" in result.output
    assert not (tmp_path / "x.db").exists()  # refused before the worker opened its store


@pytest.mark.parametrize(("given", "configured", "taken"), [
    (None, "auto", "auto"), (None, 8, 8), ("auto", 8, "auto"), ("0", "auto", 0), ("32", 8, 32),
])  # fmt: skip
def test_prefetch_is_the_option_else_config_yamls(
    given: str | None, configured: int | str, taken: int | str
) -> None:
    from headrace.cli.options import prefetch_or

    assert prefetch_or(given, configured) == taken  # type: ignore[arg-type]
