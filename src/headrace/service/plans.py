"""A pipeline job's execution plan as data: vertices after fusion, and routed edges.

The dashboard draws the DAG from this; the engine runs the same ``build_plan`` result,
so what is drawn is what runs.
"""

from __future__ import annotations

from dataclasses import dataclass

from headrace.engine import plan as engine_plan
from headrace.service.pipeline_runner import decode
from headrace.service.pipelines import PipelineService

#: Plans kept per job id and pinned version: neither changes, so a plan never goes stale.
CACHE_SIZE = 256


@dataclass(frozen=True, slots=True)
class VertexView:
    """One vertex: its stages (head first, then the fused chain, then its sinks)."""

    id: int
    name: str
    stages: list[str]
    kinds: list[str]
    parallelism: int
    streaming: bool


@dataclass(frozen=True, slots=True)
class EdgeView:
    """How one vertex's output reaches another: routing and sender-side combining."""

    src: int
    dst: int
    port: int
    routing: str
    combine: str | None


@dataclass(frozen=True, slots=True)
class PlanView:
    """A pipeline job's plan."""

    job_id: str
    local_parallelism: int
    vertices: list[VertexView]
    edges: list[EdgeView]
    #: Why there is no plan (its pipeline does not unpickle in this server), else None.
    error: str | None = None


_cache: dict[str, PlanView] = {}


def plan_of(pipelines: PipelineService, job_id: str) -> PlanView:
    """The plan of one of the tenant's pipeline jobs.

    Raises:
        NotFound: no such pipeline job in the tenant.
    """
    job = pipelines.get(job_id)  # the tenant check, every time
    # A job pinned to a published pipeline runs its commit (an upgrade moves the pin).
    key = f"{job.job_id}@{job.pipeline_version}"
    found = _cache.get(key)
    if found is not None:
        return found
    params = job.params if isinstance(job.params, dict) else {}
    parallelism = int(params.get("local_parallelism") or 1)
    try:
        if job.pipeline_name is not None:
            pipeline = pipelines.load(job.pipeline_name, job.pipeline_version)
        else:
            pipeline = decode(str(params["pipeline"]))
        plan = engine_plan.build_plan(pipeline)
    except Exception as exc:  # unpickling runs the submitter's code: anything can fail
        # Not cached: a later deploy of the missing module makes the plan readable.
        why = f"its pipeline does not load in this server: {type(exc).__name__}: {exc}"
        return PlanView(job.job_id, parallelism, [], [], why)
    vertices = [
        VertexView(
            id=v.id,
            name=v.name,
            stages=[n.name for n in (*v.nodes, *v.sinks)],
            kinds=[n.kind for n in (*v.nodes, *v.sinks)],
            parallelism=parallelism,
            streaming=any(n.streaming for n in v.nodes),
        )
        for v in plan.vertices
    ]
    edges = [
        EdgeView(e.src, e.dst, e.port, e.routing, e.combine)
        for v in plan.vertices
        for e in v.outputs
    ]
    found = PlanView(job.job_id, parallelism, vertices, edges)
    if len(_cache) >= CACHE_SIZE:
        _cache.clear()
    _cache[key] = found
    return found
