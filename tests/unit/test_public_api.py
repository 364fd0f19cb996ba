from __future__ import annotations

import subprocess
import sys

import headrace


def test_all_is_pinned() -> None:
    assert headrace.__all__ == [
        "Client",
        "Conflict",
        "HeadraceError",
        "IllegalTransition",
        "InvalidInput",
        "Job",
        "JobContext",
        "JobFailed",
        "JobStopped",
        "JobWorker",
        "NotFound",
        "PipelineDefinitionError",
        "Status",
        "TimeoutException",
        "job_group",
        "job_type",
    ]
    for name in headrace.__all__:
        assert getattr(headrace, name) is not None


def test_importing_the_engine_does_not_load_the_store() -> None:
    code = "import sys, headrace.engine; print('sqlalchemy' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
