from __future__ import annotations

import subprocess
import sys

import pytest

from headrace import errors
from headrace.cli.app import parse_queues

DEFAULTS = {"compute": 1, "maintenance": 5, "download": 10}


def test_parse_queues() -> None:
    assert parse_queues(None, DEFAULTS) == DEFAULTS
    assert parse_queues("compute,download=4", DEFAULTS) == {"compute": 1, "download": 4}
    assert parse_queues("gpu=2", DEFAULTS) == {"gpu": 2}
    with pytest.raises(errors.InvalidInput, match="gpu"):
        parse_queues("gpu", DEFAULTS)
    with pytest.raises(errors.InvalidInput, match="compute"):
        parse_queues("compute=0", DEFAULTS)


def test_python_dash_m_is_the_same_command() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "headrace", "worker", "--help"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert "--queues" in out.stdout and "--import" in out.stdout


def test_worker_refuses_bad_queues_with_exit_2(tmp_path: object) -> None:
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "headrace",
            "worker",
            "--store",
            f"sqlite:///{tmp_path}/x.db",
            "--queues",
            "gpu",
        ],
        capture_output=True,
        text=True,
    )
    assert out.returncode == 2 and "queue 'gpu' has no capacity" in out.stderr
