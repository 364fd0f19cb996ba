"""The control plane through both clients: projects, versioned pipelines, jobs with runs."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from headrace import errors
from headrace.jet.pipeline import Pipeline
from headrace.model.status import Status


def doubler(source: str = "nums", sink: str = "doubled", factor: int = 2) -> Pipeline:
    p = Pipeline.create()
    p.read_from(Pipeline.from_list(source)).map(lambda x: x * factor).write_to(
        Pipeline.to_list(sink)
    )
    return p


def filtered(source: str = "nums", sink: str = "doubled") -> Pipeline:
    p = Pipeline.create()
    p.read_from(Pipeline.from_list(source)).filter(lambda x: x > 1).map(lambda x: x * 3).write_to(
        Pipeline.to_list(sink)
    )
    return p


def fill(client: Any, name: str = "nums", items: tuple[int, ...] = (1, 2, 3)) -> None:
    client.get_list(name).extend(list(items))


# -- projects ---------------------------------------------------------------------------


def test_projects_create_list_get_and_delete_refused_while_not_empty(client: Any) -> None:
    assert [p.name for p in client.projects.list()] == ["default"]
    made = client.projects.create("analytics", "numbers")
    assert made.name == "analytics" and made.description == "numbers"
    assert [p.name for p in client.projects.list()] == ["default", "analytics"]
    assert client.projects.get("analytics").description == "numbers"
    with pytest.raises(errors.Conflict):
        client.projects.create("analytics")
    fill(client)
    client.pipelines.publish(doubler(), "double", project="analytics")
    assert [p.name for p in client.pipelines.published("analytics")] == ["double"]
    assert client.pipelines.published("default") == []
    with pytest.raises(errors.Conflict) as held:
        client.projects.delete("analytics")
    assert "pipelines" in str(held.value)
    assert [p.name for p in client.projects.list()] == ["default", "analytics"]
    client.pipelines.remove("double")
    client.projects.delete("analytics")
    with pytest.raises(errors.NotFound):
        client.projects.get("analytics")
    with pytest.raises(errors.Conflict):
        client.projects.delete("default")
    with pytest.raises(errors.InvalidInput) as bad:
        client.projects.create("")
    assert bad.value.field == "name"


# -- versioned pipelines ----------------------------------------------------------------


def test_publish_makes_versions_labels_move_and_diff_names_stages(client: Any) -> None:
    fill(client)
    first = client.pipelines.publish(doubler(), "numbers", "first", labels=["v1"])
    second = client.pipelines.publish(filtered(), "numbers", "add a filter")
    assert (first.version, second.version) == (1, 2)
    assert first.labels == ("v1",) and second.message == "add a filter"
    assert [c.version for c in client.pipelines.commits("numbers")] == [2, 1]
    assert client.pipelines.commit("numbers").version == 2
    assert client.pipelines.commit("numbers", label="v1").version == 1
    kinds = [v["kind"] for v in client.pipelines.commit("numbers", 1).dag["vertices"]]
    assert kinds == ["source", "map", "sink"]
    assert len(client.pipelines.commit("numbers", 1).dag["edges"]) == 2
    client.pipelines.label("numbers", "v1", 2)
    assert client.pipelines.labels("numbers") == {"v1": 2}
    assert client.pipelines.describe("numbers").latest_version == 2
    diff = client.pipelines.diff("numbers", 1, 2)
    assert diff.added == ("filter#1",) and diff.removed == ()
    assert diff.changed == ("map#2",)  # its function changed; source and sink did not
    assert client.pipelines.diff("numbers", 2, 1).removed == ("filter#1",)
    assert client.pipelines.diff("numbers", 1, 1).changed == ()


def test_unknown_commit_or_label_is_named_and_changes_nothing(client: Any) -> None:
    fill(client)
    client.pipelines.publish(doubler(), "numbers", labels=["prod"])
    with pytest.raises(errors.NotFound) as commit:
        client.pipelines.commit("numbers", 7)
    assert "numbers v7" in str(commit.value)
    with pytest.raises(errors.NotFound) as label:
        client.pipelines.commit("numbers", label="nope")
    assert "nope" in str(label.value)
    with pytest.raises(errors.NotFound):
        client.jobs.create("j", pipeline="numbers", label="nope")
    with pytest.raises(errors.NotFound):
        client.pipelines.label("numbers", "prod", 9)
    assert client.pipelines.labels("numbers") == {"prod": 1}
    assert client.jobs.find(name="j") == []


def test_a_pinned_pipeline_cannot_be_deleted(client: Any) -> None:
    fill(client)
    client.pipelines.publish(doubler(), "numbers")
    job = client.jobs.create("pinned", pipeline="numbers")
    with pytest.raises(errors.Conflict) as pinned:
        client.pipelines.remove("numbers")
    assert job.job_id in str(pinned.value)
    assert client.pipelines.describe("numbers").latest_version == 1


# -- jobs with runs ---------------------------------------------------------------------


def test_a_pipeline_job_started_three_times_has_three_runs(client: Any) -> None:
    fill(client, items=(1, 2, 3))
    client.pipelines.publish(doubler(), "double")
    job = client.jobs.create("doubling", pipeline="double", tags=["team/a", "nightly"])
    assert job.status is Status.CREATED and job.run_count == 0
    assert job.pipeline_version == 1 and job.tags == ("nightly", "team/a")
    assert client.jobs.runs(job.job_id) == []
    for n in (1, 2, 3):
        started = client.jobs.start(job.job_id, name=f"run {n}")
        assert started.run_count == n and started.status is Status.WAITING
        done = client.jobs.wait(job.job_id, 60)
        assert done.status is Status.COMPLETED, done.error
        if n == 1:
            first_metrics = client.jobs.run_metrics(job.job_id, 1)
            client.get_list("nums").extend([4])  # run 2 and 3 read four items
    runs = client.jobs.runs(job.job_id)
    assert [r.run_count for r in runs] == [3, 2, 1]
    assert [r.name for r in runs] == ["run 3", "run 2", "run 1"]
    assert all(r.status is Status.COMPLETED for r in runs)
    assert client.jobs.run_metrics(job.job_id, 1) == first_metrics
    assert first_metrics["input_count"] == 3 and first_metrics["output_count"] == 3
    assert client.jobs.run_metrics(job.job_id, 3)["output_count"] == 4
    for n in (1, 2, 3):
        events = client.jobs.run_events(job.job_id, n)
        assert events[0].reason == f"run {n} started"
        assert [e.to_status for e in events][-1] is Status.COMPLETED
        assert sum(e.to_status is Status.RUNNING for e in events) == 1
    assert sorted(client.get_list("doubled")) == sorted([2, 4, 6] + [2, 4, 6, 8] * 2)
    assert client.jobs.runs(job.job_id, status="completed", limit=1)[0].run_count == 3
    assert client.jobs.runs(job.job_id, page=2, limit=2)[0].run_count == 1
    since = [r.run_count for r in client.jobs.runs(job.job_id, since_ms=runs[1].started_at_ms)]
    assert since == [3, 2]
    until = client.jobs.runs(job.job_id, until_ms=runs[1].started_at_ms)
    assert [r.run_count for r in until] == [1]
    assert client.jobs.runs(job.job_id, status="failed") == []
    summary = client.jobs.summary(job.job_id)
    assert (summary["run_count"], summary["status"]) == (3, "completed")
    assert (summary["input_count"], summary["output_count"]) == (4, 4)


def test_starting_an_active_job_is_a_conflict_naming_its_run(client: Any) -> None:
    @client.job_type("tests.cp.sleepy", params={"type": "object"})
    def sleepy(ctx: Any, params: Any) -> Any:
        ctx.sleep(30)
        return params

    job = client.jobs.create("sleeper", type="tests.cp.sleepy", params={})
    client.jobs.start(job.job_id)
    with pytest.raises(errors.IllegalTransition) as active:
        client.jobs.start(job.job_id)
    assert "run 1" in str(active.value)
    _wait_for(lambda: client.jobs.get(job.job_id).status is Status.RUNNING, "run 1 to run")
    with pytest.raises(errors.IllegalTransition):
        client.jobs.delete(job.job_id)  # a run is active
    assert client.jobs.get(job.job_id).run_count == 1
    deleted = client.jobs.delete(job.job_id, force=True)  # stops the run first
    assert deleted.status is Status.CANCELED
    with pytest.raises(errors.NotFound):
        client.jobs.get(job.job_id)


def test_runtime_parameters_merge_per_run_into_a_task_jobs_params(client: Any) -> None:
    @client.job_type("tests.cp.echo", params={"type": "object"})
    def echo(ctx: Any, params: Any) -> Any:
        ctx.log(f"threshold={params.get('threshold')}")
        return params

    job = client.jobs.create(
        "echo",
        type="tests.cp.echo",
        params={"base": 1},
        runtime_parameters={"threshold": 10},
        parameter_sets={"high": {"threshold": 99}},
    )
    client.jobs.start(job.job_id)
    assert client.jobs.wait(job.job_id, 60).result == {"base": 1, "threshold": 10}
    client.jobs.start(job.job_id, parameter_set="high", runtime_parameters={"extra": True})
    done = client.jobs.wait(job.job_id, 60)
    assert done.result == {"base": 1, "threshold": 99, "extra": True}
    runs = client.jobs.runs(job.job_id)
    assert runs[0].parameters == {"threshold": 99, "extra": True}
    assert runs[1].parameters == {"threshold": 10}
    assert client.jobs.get(job.job_id).runtime_parameters == {"threshold": 10}  # not written back
    assert [line.message for line in client.jobs.run_logs(job.job_id, 1)] == ["threshold=10"]
    assert [line.message for line in client.jobs.run_logs(job.job_id, 2)] == ["threshold=99"]
    with pytest.raises(errors.InvalidInput) as unknown:
        client.jobs.start(job.job_id, parameter_set="nope")
    assert unknown.value.field == "parameter_set"
    assert client.jobs.get(job.job_id).run_count == 2


def test_update_duplicate_upgrade_and_find(client: Any) -> None:
    fill(client)
    client.pipelines.publish(doubler(), "double", labels=["prod"])
    job = client.jobs.create("orig", pipeline="double", tags=["etl/daily"])
    updated = client.jobs.update(job.job_id, description="new", tags=["etl/hourly"])
    assert updated.description == "new" and updated.tags == ("etl/hourly",)
    copies = client.jobs.duplicate(job.job_id, 2)
    assert [c.name for c in copies] == ["orig copy1", "orig copy2"]
    assert all(c.status is Status.CREATED and c.pipeline_version == 1 for c in copies)
    named = client.jobs.duplicate(job.job_id, 1, name="twin")
    assert [c.name for c in named] == ["twin"]
    client.pipelines.publish(filtered(), "double")
    upgraded = client.jobs.upgrade([job.job_id, copies[0].job_id])
    assert [u.pipeline_version for u in upgraded] == [2, 2]
    assert {j.name for j in client.jobs.find(tag="etl")} == {
        "orig",
        "orig copy1",
        "orig copy2",
        "twin",
    }
    assert {j.name for j in client.jobs.find(pipeline="double", label="prod")} == {
        "orig copy2",
        "twin",
    }
    assert [j.name for j in client.jobs.find(name="twin")] == ["twin"]
    assert len(client.jobs.find(status="created")) == 4
    for count in (0, 10_001):
        with pytest.raises(errors.InvalidInput) as bad:
            client.jobs.duplicate(job.job_id, count)
        assert bad.value.field == "count"
    assert len(client.jobs.find(pipeline="double")) == 4
    with pytest.raises(errors.InvalidInput) as field:
        client.jobs.update(job.job_id, colour="red")
    assert field.value.field == "colour"


def test_update_of_a_deleted_job_is_not_found(client: Any) -> None:
    fill(client)
    client.pipelines.publish(doubler(), "double")
    job = client.jobs.create("gone", pipeline="double")
    client.jobs.delete(job.job_id)
    with pytest.raises(errors.NotFound):
        client.jobs.update(job.job_id, description="x")
    with pytest.raises(errors.NotFound):
        client.jobs.start(job.job_id)


def test_another_tenants_objects_are_not_found(client: Any) -> None:
    fill(client)
    client.projects.create("mine")
    client.pipelines.publish(doubler(), "double")
    job = client.jobs.create("private", pipeline="double")
    client.jobs.start(job.job_id)
    client.jobs.wait(job.job_id, 60)
    other = client.for_tenant(str(uuid.uuid4()))
    with pytest.raises(errors.NotFound):
        other.projects.get("mine")
    with pytest.raises(errors.NotFound):
        other.pipelines.commits("double")
    with pytest.raises(errors.NotFound):
        other.jobs.start(job.job_id)
    with pytest.raises(errors.NotFound):
        other.jobs.runs(job.job_id)
    with pytest.raises(errors.NotFound):
        other.jobs.run_events(job.job_id, 1)
    assert other.jobs.find(name="private") == []


def test_runtime_parameters_reach_the_pipelines_stages(client: Any) -> None:
    fill(client, items=(1, 5, 10, 20))
    threshold = Pipeline.parameter("threshold", default=10)
    p = Pipeline.create()
    p.read_from(Pipeline.from_list("nums")).filter(lambda x: x >= threshold.value).write_to(
        Pipeline.to_list("kept")
    )
    client.pipelines.publish(p, "thresholds")
    job = client.jobs.create(
        "keep", pipeline="thresholds", parameter_sets={"low": {"threshold": 1}}
    )
    client.jobs.start(job.job_id)
    assert client.jobs.wait(job.job_id, 60).status is Status.COMPLETED
    assert sorted(client.get_list("kept")) == [10, 20]  # the default
    client.get_list("kept").clear()
    client.jobs.start(job.job_id, runtime_parameters={"threshold": 5})
    assert client.jobs.wait(job.job_id, 60).status is Status.COMPLETED
    assert sorted(client.get_list("kept")) == [5, 10, 20]
    client.get_list("kept").clear()
    client.jobs.start(job.job_id, parameter_set="low")
    assert client.jobs.wait(job.job_id, 60).status is Status.COMPLETED
    assert sorted(client.get_list("kept")) == [1, 5, 10, 20]
    assert [r.parameters for r in client.jobs.runs(job.job_id)] == [
        {"threshold": 1},
        {"threshold": 5},
        {},
    ]


def _wait_for(predicate: Any, what: str, timeout: float = 60) -> None:
    import time

    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


def _stop(client: Any, job_id: str) -> None:
    client.jobs.stop(job_id, force=True)
    client.jobs.wait(job_id, 60)


def test_offsets_continue_reset_and_upload_between_runs(client: Any) -> None:
    from headrace.model.jobconfig import JobConfig, ProcessingGuarantee

    events = client.get_stream("events", partitions=1)
    events.append(list(range(5)))  # half of what the stream will hold
    p = Pipeline.create()
    p.read_from(Pipeline.from_stream("events")).map(lambda x: x).write_to(Pipeline.to_list("seen"))
    client.pipelines.publish(p, "follow")
    config = JobConfig(
        processing_guarantee=ProcessingGuarantee.EXACTLY_ONCE, snapshot_interval_ms=100
    )
    job = client.jobs.create("follower", pipeline="follow", config=config)
    seen = client.get_list("seen")

    client.jobs.start(job.job_id)
    _wait_for(lambda: client.jobs.offsets(job.job_id)["offsets"].get(_ENTITY) == "5", "offset 5")
    _stop(client, job.job_id)
    assert list(seen) == [0, 1, 2, 3, 4]
    assert client.jobs.offsets(job.job_id, 1) == {"version": 2, "offsets": {_ENTITY: "5"}}
    events.append(list(range(5, 10)))

    # A new run continues where the last one stopped.
    client.jobs.start(job.job_id)
    _wait_for(lambda: len(seen) == 10, "run 2 to read offsets 5..9")
    _stop(client, job.job_id)
    assert list(seen)[5:] == [5, 6, 7, 8, 9]

    # Reset: the next run reads the whole stream again.
    client.jobs.reset_offsets(job.job_id)
    client.jobs.start(job.job_id)
    _wait_for(lambda: len(seen) == 20, "run 3 to read everything again")
    _stop(client, job.job_id)
    assert list(seen)[10:] == list(range(10))

    # An unknown entity is refused, naming it, and changes nothing.
    with pytest.raises(errors.InvalidInput) as bad:
        client.jobs.upload_offsets(job.job_id, {"version": 2, "offsets": {"nope/0": "1"}})
    assert bad.value.field == "offsets.nope/0"
    with pytest.raises(errors.InvalidInput):
        client.jobs.upload_offsets(job.job_id, {"offsets": {_ENTITY: "1"}})

    # Upload the middle: the next run starts at offset 7.
    client.jobs.upload_offsets(job.job_id, {"version": 2, "offsets": {_ENTITY: "7"}})
    client.jobs.start(job.job_id)
    _wait_for(lambda: len(seen) == 23, "run 4 to read offsets 7..9")
    _stop(client, job.job_id)
    assert list(seen)[20:] == [7, 8, 9]
    assert client.jobs.offsets(job.job_id)["offsets"] == {_ENTITY: "10"}
    assert [r.run_count for r in client.jobs.runs(job.job_id)] == [4, 3, 2, 1]


#: The stream source's one partition, as offsets name it.
_ENTITY = "source#0/0"
