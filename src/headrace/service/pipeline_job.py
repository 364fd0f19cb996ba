"""The ``headrace.pipeline`` job type, registered without the engine it runs on.

Every worker process registers this type, so that it runs pipeline jobs; few of them
ever get one. Registering it here costs nothing, where importing ``pipeline_runner`` (the
engine, the pipeline model, cloudpickle) was a third of ``headrace worker``'s start-up:
the runner is imported at the first pipeline job this process runs.
"""

from __future__ import annotations

import dataclasses
import importlib
from typing import Any

from headrace import defaults
from headrace.scheduler.context import JobContext
from headrace.scheduler.registry import DEFAULT

#: The built-in job type that runs a pipeline on a worker.
PIPELINE_JOB_TYPE = "headrace.pipeline"


def run(ctx: JobContext, params: dict[str, Any]) -> dict[str, object]:
    """Run the pipeline in ``params`` on this worker, from its last snapshot if any."""
    runner = importlib.import_module("headrace.service.pipeline_runner")
    result: dict[str, object] = runner.pipeline_job(ctx, params)
    return result


DEFAULT.decorator(
    PIPELINE_JOB_TYPE,
    group="headrace",
    queue=defaults.PIPELINE_QUEUE,
    timeout_sec=0,
    max_retries=0,
    suspendable=True,
    description="Runs a pipeline on the dataflow engine",
    params={
        "type": "object",
        "properties": {
            "pipeline": {"type": "string"},
            "local_parallelism": {"type": "integer", "minimum": 1},
            "config": {"type": "object"},
            "run_count": {"type": "integer", "minimum": 1},
            "parameters": {"type": "object"},
        },
        "required": ["pipeline"],
    },
)(run)
# Streaming pipeline jobs go to their own queue (``PipelineService.submit``).
_spec = DEFAULT.get(PIPELINE_JOB_TYPE)
assert _spec is not None
DEFAULT.register(dataclasses.replace(_spec, also_queues=(defaults.STREAM_QUEUE,)))
