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


def test_facades_all_are_pinned() -> None:
    import headrace.controlhub
    import headrace.platform

    assert headrace.controlhub.__all__ == [
        "ControlHub", "ControlHubColor", "ControlHubStatus", "DataCollector", "Job",
        "JobBuilder", "JobMetrics", "JobOffset", "JobRunEvent", "JobStatus", "Pipeline",
        "PipelineCommit", "PipelineMetrics", "Tag",
    ]  # fmt: skip
    assert headrace.platform.__all__ == [
        "Flow", "Job", "JobMetadata", "JobRun", "JobRunState", "Platform", "Project", "Response",
    ]  # fmt: skip
    for module in (headrace.controlhub, headrace.platform):
        for name in module.__all__:
            assert getattr(module, name) is not None
