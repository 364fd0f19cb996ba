"""Children started by Headrace do not import the parent's ``__main__``.

Also pins the private stdlib details ``headrace.children`` relies on (CPython 3.11's
``multiprocessing``): a failure here after a Python upgrade means that module needs a look.
"""

from __future__ import annotations

import multiprocessing
import subprocess
import sys
from multiprocessing import popen_forkserver, popen_spawn_posix, spawn
from pathlib import Path
from typing import Any

import pytest

from headrace import children


def _main_file() -> str | None:
    file: str | None = getattr(sys.modules["__main__"], "__file__", None)
    return file


def _report(conn: Any) -> None:
    """Runs in the child: the file its ``__main__`` came from, if any."""
    conn.send(_main_file())
    conn.close()


def _imports_main(ctx: Any) -> bool:
    """Whether a child of ``ctx`` ran this process's main script as its own."""
    parent, child = ctx.Pipe()
    proc = ctx.Process(target=_report, args=(child,), daemon=True)
    proc.start()
    child.close()
    try:
        assert parent.poll(60), "the child did not report"
        file = parent.recv()
    finally:
        proc.join(10)
    assert proc.exitcode == 0
    return bool(file == _main_file())


#: A main script that runs one check of this module (its ``_check_*``), as a process whose
#: ``__main__`` is a file: the stdlib's children import such a main again. pytest's own
#: process is no such thing under xdist (its workers' main is ``python -c``).
SCRIPT = """
import sys
sys.path.insert(0, {here!r})
import test_children

if __name__ == "__main__":
    getattr(test_children, sys.argv[1])(*sys.argv[2:])
    print("checked")
"""


def _run_as_a_script(tmp_path: Path, check: str, *args: str) -> None:
    script = tmp_path / "main_script.py"
    script.write_text(SCRIPT.format(here=str(Path(__file__).parent)))
    done = subprocess.run(
        [sys.executable, str(script), check, *args], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0 and done.stdout.strip() == "checked", done.stdout + done.stderr


def _check_skip_the_main(method: str) -> None:
    # The script's main is a file the stdlib child imports again: the control.
    assert _main_file() is not None
    assert _imports_main(multiprocessing.get_context(method)) is True
    assert _imports_main(children.context_for(method)) is False  # type: ignore[call-overload]


def _check_preparation_data() -> None:
    stdlib = spawn.get_preparation_data("x")
    assert set(children.MAIN_KEYS) & set(stdlib), "the stdlib names the main differently now"
    ours = children.preparation_data("x")
    assert not set(children.MAIN_KEYS) & set(ours)
    assert {k: v for k, v in stdlib.items() if k not in children.MAIN_KEYS} == ours


@pytest.mark.parametrize("method", ["spawn", "forkserver"])
def test_children_skip_the_main_the_stdlib_would_import(method: str, tmp_path: Path) -> None:
    _run_as_a_script(tmp_path, "_check_skip_the_main", method)


def test_preparation_data_is_the_stdlibs_without_the_main_keys(tmp_path: Path) -> None:
    _run_as_a_script(tmp_path, "_check_preparation_data")


def test_the_stdlib_details_children_relies_on() -> None:
    # Each _launch takes the preparation data through its module's ``spawn`` global.
    for popen in (popen_spawn_posix.Popen, popen_forkserver.Popen):
        names = popen._launch.__code__.co_names  # type: ignore[attr-defined]
        assert "spawn" in names and "get_preparation_data" in names, popen
        assert popen._launch.__globals__["spawn"] is spawn  # type: ignore[attr-defined]
    # spawn.prepare imports the main for these keys only.
    keys = {c for c in spawn.prepare.__code__.co_consts if isinstance(c, str)}
    assert {k for k in keys if "main" in k} == set(children.MAIN_KEYS)


def test_an_unavailable_start_method_is_refused() -> None:
    with pytest.raises(ValueError, match="not available"):
        children.context_for("threads")  # type: ignore[call-overload]
