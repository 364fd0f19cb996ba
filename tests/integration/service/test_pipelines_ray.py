"""A pipeline job with ``JobConfig(executor="ray")`` runs its partitions as Ray actors."""

from __future__ import annotations

from typing import Any

import pytest

from headrace import Client, errors
from headrace.jet.pipeline import Pipeline, counting
from headrace.model.jobconfig import JobConfig
from headrace.model.status import Status

pytestmark = pytest.mark.slow  # the session's Ray cluster takes seconds to start


@pytest.mark.usefixtures("ray_cluster")
def test_a_pipeline_job_runs_on_ray_exactly_once(client: Client) -> None:
    lines = [f"a b{i % 3} c{i % 4}" for i in range(200)]
    client.get_list("lines").add_all(lines)
    p = Pipeline.create()
    p.read_from(Pipeline.from_list("lines")).flat_map(str.split).group_by(lambda w: w).aggregate(
        counting()
    ).write_to(Pipeline.to_map("counts"))
    config = JobConfig(executor="ray", processing_guarantee="exactly_once", local_parallelism=2)
    job = client.pipelines.submit(p, config)
    done = client.jobs.wait(job.job_id, 120)
    assert done.status is Status.COMPLETED, done.error
    expected: dict[str, int] = {}
    for w in (w for ln in lines for w in ln.split()):
        expected[w] = expected.get(w, 0) + 1
    assert client.get_map("counts").to_dict() == expected


def test_an_unknown_executor_is_refused_naming_the_field() -> None:
    with pytest.raises(errors.InvalidInput, match="executor"):
        JobConfig(executor="spark")
    assert JobConfig(executor="ray", ray_address="ray://head:10001").ray_address == (
        "ray://head:10001"
    )
    assert JobConfig().executor == "processes"


@pytest.mark.usefixtures("ray_cluster")
def test_client_run_on_ray_embedded_and_remote(any_client: Any) -> None:
    any_client.get_list("words").add_all(["a b a", "b c", "a"] * 50)
    p = Pipeline.create()
    p.read_from(Pipeline.from_list("words")).flat_map(str.split).group_by(lambda w: w).aggregate(
        counting()
    ).write_to(Pipeline.to_map("counts"))
    any_client.run(p, local_parallelism=2, executor="ray")
    assert any_client.get_map("counts").to_dict() == {"a": 150, "b": 100, "c": 50}
