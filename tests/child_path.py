"""The PYTHONPATH of a process a test starts: the tested headrace first, then its folders.

A child run with ``PYTHONPATH`` set to a test folder alone imports the headrace the
virtualenv installed, which, from a worktree (``PYTHONPATH=src`` with another checkout's
virtualenv), is another checkout's code and static files, not the one under test.
"""

from __future__ import annotations

import os
from pathlib import Path

import headrace

#: The folder holding the ``headrace`` package these tests import.
SOURCE = Path(headrace.__file__).resolve().parent.parent
#: The tests' root, where this module is: a child importing a test module that imports
#: it (a job type beside a test, a server's ``--import``) finds it there.
TESTS = Path(__file__).resolve().parent


def child_pythonpath(*folders: Path) -> str:
    """``PYTHONPATH`` for a child: the tested source, ``folders``, then the tests' root."""
    return os.pathsep.join([str(SOURCE), *(str(f) for f in folders), str(TESTS)])
