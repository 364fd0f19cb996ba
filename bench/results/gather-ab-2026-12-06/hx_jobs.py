from typing import Any
import common
from headrace import JobContext, job_type
@job_type("hx.params", queue="hx")
def with_params(ctx: JobContext, params: Any) -> None:
    return None
@job_type("hx.record", queue="hx")
def record(ctx: JobContext, params: Any) -> None:
    common.noop_body(0.0)
