"""The job service end to end on both stores, with the in-process worker."""

from __future__ import annotations

import itertools
import threading
import time
from typing import Any

import pydantic
import pytest

from headrace import Client, JobContext, JobWorker, errors
from headrace.model import status as machine
from headrace.model.job import Page
from headrace.model.status import Status


class AddParams(pydantic.BaseModel):
    a: int
    b: int = 0


def wait_for(predicate: Any, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.01)


def path_of(client: Client, job_id: str) -> list[str]:
    return [str(e.to_status) for e in client.jobs.events(job_id)]


def test_a_job_runs_to_completion_with_result_progress_and_logs(client: Client) -> None:
    @client.job_type("math.add", queue="compute", params=AddParams)
    def add(ctx: JobContext, params: AddParams) -> dict[str, int]:
        ctx.progress(0.5, {"step": "adding"})
        ctx.log("adding numbers")
        return {"sum": params.a + params.b}

    job = client.jobs.schedule("math.add", {"a": 2, "b": 3})
    assert job.status is Status.WAITING
    assert job.type == "math.add" and job.params == {"a": 2, "b": 3}
    done = client.jobs.wait(job.job_id, timeout=10)
    assert done.status is Status.COMPLETED
    assert done.result == {"sum": 5}
    assert done.progress == 1.0
    assert done.progress_details == '{"step": "adding"}'
    assert done.started_at_ms is not None and done.started_at_ms >= done.scheduled_at_ms
    assert done.locked_by is not None
    assert path_of(client, job.job_id) == ["waiting", "locked", "running", "completed"]
    assert [line.message for line in client.jobs.logs(job.job_id)] == ["adding numbers"]


def test_params_failing_the_schema_are_refused_naming_the_field(client: Client) -> None:
    client.job_type("math.add2", params=AddParams)(lambda ctx, p: None)
    with pytest.raises(errors.InvalidInput) as info:
        client.jobs.schedule("math.add2", {"a": "not a number"})
    assert info.value.field == "params.a"
    with pytest.raises(errors.InvalidInput) as info:
        client.jobs.schedule("math.add2", {"b": 1})
    assert info.value.field == "params.a"
    assert client.jobs.list().total == 0


def test_json_schema_params(client: Client) -> None:
    schema = {"type": "object", "properties": {"url": {"type": "string"}}, "required": ["url"]}
    client.job_type("dl.fetch", queue="download", params=schema)(lambda ctx, p: p["url"])
    with pytest.raises(errors.InvalidInput) as info:
        client.jobs.schedule("dl.fetch", {"url": 3})
    assert info.value.field == "params.url"
    job = client.jobs.schedule("dl.fetch", {"url": "http://x"})
    assert client.jobs.wait(job.job_id, 10).result == "http://x"


def test_unknown_type_and_bad_options_change_nothing(client: Client) -> None:
    with pytest.raises(errors.NotFound):
        client.jobs.schedule("no.such.type")
    client.job_type("t.noop")(lambda ctx, p: None)
    for option in ("timeout_sec", "max_retries", "retry_delay_sec"):
        with pytest.raises(errors.InvalidInput) as info:
            client.jobs.schedule("t.noop", **{option: -1})
        assert info.value.field == option
    with pytest.raises(errors.InvalidInput) as info:
        client.jobs.schedule("t.noop", delay_sec=-5)
    assert info.value.field == "delay_sec"
    assert client.jobs.list().total == 0


def test_list_pages_filters_and_orders(client: Client) -> None:
    client.job_type("t.later")(lambda ctx, p: p)
    ids = [client.jobs.schedule("t.later", i, delay_sec=3600).job_id for i in range(5)]
    client.jobs.cancel(ids[0])
    page = client.jobs.list(page=1, limit=2, status=["waiting"], order="-scheduled_at")
    assert page.total == 4 and len(page.items) == 2
    assert [j.job_id for j in page.items] == [ids[4], ids[3]]
    page2 = client.jobs.list(page=2, limit=2, status="waiting,canceled", order="scheduled_at")
    assert [j.job_id for j in page2.items] == [ids[2], ids[3]]
    assert client.jobs.list(status="canceled").items[0].job_id == ids[0]
    with pytest.raises(errors.InvalidInput) as info:
        client.jobs.list(status="runing")
    assert info.value.field == "status"
    with pytest.raises(errors.InvalidInput) as info:
        client.jobs.list(order="-color")
    assert info.value.field == "order"
    with pytest.raises(errors.InvalidInput) as info:
        client.jobs.list(limit=0)
    assert info.value.field == "limit"


def test_get_unknown_id_is_not_found_and_a_malformed_one_invalid(client: Client) -> None:
    with pytest.raises(errors.NotFound):
        client.jobs.get("6a1f1c1e-0000-4000-8000-000000000000")
    # Issue 14: an id that is not a canonical UUID is refused naming the field.
    with pytest.raises(errors.InvalidInput) as caught:
        client.jobs.get("not-a-uuid")
    assert "job_id" in caught.value.field


def test_cancel_waiting_job_and_illegal_cancel_changes_nothing(client: Client) -> None:
    client.job_type("t.quick")(lambda ctx, p: "ok")
    later = client.jobs.schedule("t.quick", delay_sec=3600)
    assert client.jobs.cancel(later.job_id).status is Status.CANCELED
    done = client.jobs.schedule("t.quick")
    client.jobs.wait(done.job_id, 10)
    before = client.jobs.events(done.job_id)
    with pytest.raises(errors.IllegalTransition) as info:
        client.jobs.cancel(done.job_id)
    assert info.value.current == "completed" and info.value.requested == "canceled"
    assert client.jobs.get(done.job_id).status is Status.COMPLETED
    assert client.jobs.events(done.job_id) == before
    with pytest.raises(errors.IllegalTransition):
        client.jobs.resume(done.job_id)


def test_cancel_running_job_stops_it_cooperatively(client: Client) -> None:
    started = threading.Event()

    @client.job_type("t.spin", queue="maintenance")
    def spin(ctx: JobContext, params: Any) -> None:
        started.set()
        while True:
            ctx.sleep(0.01)

    job = client.jobs.schedule("t.spin")
    assert started.wait(10)
    wait_for(lambda: client.jobs.get(job.job_id).status is Status.RUNNING)
    assert client.jobs.cancel(job.job_id).status is Status.CANCELING
    final = client.jobs.wait(job.job_id, 10)
    assert final.status is Status.CANCELED
    assert path_of(client, job.job_id)[-2:] == ["canceling", "canceled"]


class Counter(JobWorker):
    """Counts to 60, one step per 20 ms, keeping its position in ctx.state."""

    calls: list[str] = []

    def init(self, ctx: JobContext, resumed: bool) -> None:
        Counter.calls.append(f"init(resumed={resumed})")
        ctx.state.setdefault("i", 0)

    def execute(self, ctx: JobContext) -> dict[str, int]:
        while ctx.state["i"] < 60:
            ctx.check()
            ctx.state["i"] += 1
            ctx.progress(ctx.state["i"] / 60)
            time.sleep(0.02)
        return {"counted": ctx.state["i"]}

    def on_suspend(self, ctx: JobContext) -> None:
        Counter.calls.append("on_suspend")

    def on_resume(self, ctx: JobContext) -> None:
        Counter.calls.append("on_resume")


def test_suspend_and_resume_keep_state_and_progress(client: Client) -> None:
    Counter.calls = []
    client.job_type("t.count", queue="maintenance", suspendable=True)(Counter)
    job = client.jobs.schedule("t.count")
    wait_for(lambda: client.jobs.get(job.job_id).progress >= 0.1)
    client.jobs.suspend(job.job_id)
    suspended = client.jobs.wait(job.job_id, 10)
    assert suspended.status is Status.SUSPENDED
    kept = suspended.state["i"]
    assert 0 < kept < 60
    assert suspended.progress == pytest.approx(kept / 60)
    time.sleep(0.2)
    assert client.jobs.get(job.job_id).state["i"] == kept  # nothing runs while suspended
    client.jobs.resume(job.job_id)
    done = client.jobs.wait(job.job_id, 20)
    assert done.status is Status.COMPLETED and done.result == {"counted": 60}
    assert Counter.calls == ["init(resumed=False)", "on_suspend", "init(resumed=True)", "on_resume"]
    steps = path_of(client, job.job_id)
    assert steps.index("suspending") < steps.index("suspended") < steps.index("resuming")


def test_suspend_of_a_running_job_needs_a_suspendable_type(client: Client) -> None:
    started = threading.Event()

    @client.job_type("t.stubborn", queue="maintenance")
    def stubborn(ctx: JobContext, params: Any) -> None:
        started.set()
        ctx.sleep(30)

    job = client.jobs.schedule("t.stubborn")
    assert started.wait(10)
    wait_for(lambda: client.jobs.get(job.job_id).status is Status.RUNNING)
    with pytest.raises(errors.IllegalTransition) as info:
        client.jobs.suspend(job.job_id)
    assert "not suspendable" in str(info.value)
    assert client.jobs.get(job.job_id).status is Status.RUNNING
    client.jobs.cancel(job.job_id)
    assert client.jobs.wait(job.job_id, 10).status is Status.CANCELED


def test_waiting_job_suspends_and_resumes_without_running(client: Client) -> None:
    client.job_type("t.later2")(lambda ctx, p: "ran")
    job = client.jobs.schedule("t.later2", delay_sec=3600)
    assert client.jobs.suspend(job.job_id).status is Status.SUSPENDED
    resumed = client.jobs.resume(job.job_id)
    assert resumed.status is Status.WAITING
    assert path_of(client, job.job_id) == ["waiting", "suspended", "resuming", "waiting"]


@pytest.mark.parametrize("cooperative", [True, False])
def test_timeout_ends_the_attempt_as_timeout(client: Client, cooperative: bool) -> None:
    @client.job_type("t.sleepy", queue="maintenance", timeout_sec=1)
    def sleepy(ctx: JobContext, params: Any) -> str:
        if cooperative:
            ctx.sleep(5)
        else:
            time.sleep(2)  # ignores the stop request; its late result must be dropped
        return "finished"

    job = client.jobs.schedule("t.sleepy")
    final = client.jobs.wait(job.job_id, 10)
    assert final.status is Status.TIMEOUT
    assert "timed out after 1 s" in (final.error or "")
    time.sleep(1.5 if not cooperative else 0)
    after = client.jobs.get(job.job_id)
    assert after.status is Status.TIMEOUT and after.result is None


def test_retries_then_success(client: Client) -> None:
    @client.job_type("t.flaky", max_retries=3, retry_delay_sec=0)
    def flaky(ctx: JobContext, params: Any) -> int:
        if ctx.attempt <= 2:
            msg = f"boom on attempt {ctx.attempt}"
            raise RuntimeError(msg)
        return ctx.attempt

    job = client.jobs.schedule("t.flaky")
    done = client.jobs.wait(job.job_id, 15)
    assert done.status is Status.COMPLETED
    assert done.retries == 2 and done.result == 3 and done.attempt == 3
    assert path_of(client, job.job_id).count("retrying") == 2


def test_retries_exhausted_fails_with_the_last_error(client: Client) -> None:
    @client.job_type("t.broken", max_retries=1, retry_delay_sec=0)
    def broken(ctx: JobContext, params: Any) -> None:
        msg = f"broken attempt {ctx.attempt}"
        raise ValueError(msg)

    done = client.jobs.wait(client.jobs.schedule("t.broken").job_id, 15)
    assert done.status is Status.FAILED
    assert "ValueError: broken attempt 2" in (done.error or "")
    assert done.retries == 1


def test_a_retried_job_keeps_the_failed_run_in_its_history(client: Client) -> None:
    @client.job_type("t.rerun", max_retries=0)
    def rerun(ctx: JobContext, params: Any) -> str:
        if ctx.attempt == 1:
            msg = "first run fails"
            raise RuntimeError(msg)
        return "second run"

    job_id = client.jobs.schedule("t.rerun").job_id
    assert client.jobs.wait(job_id, 15).status is Status.FAILED
    client.jobs.retry(job_id)
    done = client.jobs.wait(job_id, 15)
    assert done.status is Status.COMPLETED and done.run_count == 2
    runs = client.jobs.runs(job_id)
    assert [(r.run_count, r.status) for r in runs] == [
        (2, Status.COMPLETED),
        (1, Status.FAILED),
    ]
    assert "first run fails" in (runs[1].error or "")
    first = [str(e.to_status) for e in client.jobs.run_events(job_id, 1)]
    second = [str(e.to_status) for e in client.jobs.run_events(job_id, 2)]
    assert first[-1] == "failed" and second[0] == "waiting" and second[-1] == "completed"


def test_retry_delay_is_honoured(client: Client) -> None:
    @client.job_type("t.once", max_retries=1, retry_delay_sec=2)
    def once(ctx: JobContext, params: Any) -> None:
        if ctx.attempt == 1:
            msg = "first"
            raise RuntimeError(msg)

    job = client.jobs.schedule("t.once")
    wait_for(lambda: client.jobs.get(job.job_id).status is Status.RETRYING)
    retrying = client.jobs.get(job.job_id)
    assert retrying.eta_ms >= retrying.updated_at_ms + 1900
    done = client.jobs.wait(job.job_id, 15)
    assert done.status is Status.COMPLETED
    second_start = [e for e in client.jobs.events(job.job_id) if str(e.to_status) == "locked"][-1]
    assert second_start.at_ms >= retrying.eta_ms


def test_delete_removes_job_events_and_logs(client: Client) -> None:
    client.job_type("t.log")(lambda ctx, p: ctx.log("hi"))
    job = client.jobs.schedule("t.log")
    client.jobs.wait(job.job_id, 10)
    client.jobs.delete(job.job_id)
    with pytest.raises(errors.NotFound):
        client.jobs.get(job.job_id)
    with pytest.raises(errors.NotFound):
        client.jobs.events(job.job_id)
    with pytest.raises(errors.NotFound):
        client.jobs.delete(job.job_id)


def test_idempotency_key_returns_the_existing_job(client: Client) -> None:
    client.job_type("t.idem")(lambda ctx, p: p)
    first = client.jobs.schedule("t.idem", 1, idempotency_key="k-1", delay_sec=3600)
    again = client.jobs.schedule("t.idem", 1, idempotency_key="k-1")
    assert again.job_id == first.job_id and again.params == 1
    with pytest.raises(errors.Conflict, match=r"'k-1'.*params"):
        client.jobs.schedule("t.idem", 2, idempotency_key="k-1")
    client.job_type("t.idem.other")(lambda ctx, p: p)
    with pytest.raises(errors.Conflict, match=r"'k-1'.*type 't\.idem' != 't\.idem\.other'"):
        client.jobs.schedule("t.idem.other", 1, idempotency_key="k-1")
    other_tenant = client.for_tenant("11111111-1111-4111-8111-111111111111")
    theirs = other_tenant.jobs.schedule("t.idem", 3, idempotency_key="k-1", delay_sec=3600)
    assert theirs.job_id != first.job_id


def test_fifty_threads_with_one_key_make_one_job(client: Client) -> None:
    client.job_type("t.idem50")(lambda ctx, p: None)
    barrier = threading.Barrier(50)
    found: list[str] = []
    failures: list[BaseException] = []

    def schedule() -> None:
        try:
            barrier.wait()
            found.append(
                client.jobs.schedule("t.idem50", idempotency_key="same", delay_sec=3600).job_id
            )
        except BaseException as exc:  # reported below
            failures.append(exc)

    threads = [threading.Thread(target=schedule) for _ in range(50)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert failures == []
    assert len(found) == 50 and len(set(found)) == 1
    assert client.jobs.list(limit=100).total == 1


def test_tenant_b_sees_nothing_of_tenant_a(client: Client) -> None:
    client.job_type("t.private", suspendable=True)(lambda ctx, p: None)
    a = client.for_tenant("aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa")
    b = client.for_tenant("bbbbbbbb-bbbb-4bbb-8bbb-bbbbbbbbbbbb")
    job = a.jobs.schedule("t.private", delay_sec=3600)
    for call in (
        b.jobs.get,
        b.jobs.cancel,
        b.jobs.suspend,
        b.jobs.resume,
        b.jobs.delete,
        b.jobs.events,
        b.jobs.logs,
        lambda job_id: b.jobs.wait(job_id, timeout=1),
    ):
        with pytest.raises(errors.NotFound):
            call(job.job_id)
    assert b.jobs.list().total == 0
    assert a.jobs.get(job.job_id).status is Status.WAITING
    assert a.jobs.list().total == 1


@pytest.mark.embedded_only(
    reason="for_tenant(any id) is the embedded client's: a remote client's tenant comes "
    "from its token, and tokens name tenants by UUID or by name"
)
def test_client_takes_tenant_names_as_tokens_do_and_refuses_empty_ones(client: Client) -> None:
    # Issue 11 item 8: "acme" is the tenant of `headrace tokens create --tenant acme`.
    from headrace.service.tokens import identity

    assert client.for_tenant("acme").scope.tenant_id == identity("tenant", "acme")[0]
    assert client.for_tenant("default").scope.tenant_id == client.scope.tenant_id
    with pytest.raises(errors.InvalidInput) as info:
        client.for_tenant(" ")
    assert info.value.field == "tenant_id"


def test_job_types_and_groups_are_stored_with_seed_columns(client: Client) -> None:
    client.job_group("dataset", queue="download", description="data jobs")

    @client.job_type(
        "dataset.import", group="dataset", timeout_sec=60, max_retries=3, retry_delay_sec=1
    )
    def imp(ctx: JobContext, params: Any) -> None:
        """Import a dataset."""

    info = client.job_types.get("dataset.import")
    assert (
        info.group_name,
        info.queue,
        info.timeout_sec,
        info.max_retries,
        info.retry_delay_sec,
    ) == (
        "dataset",
        "download",
        60,
        3,
        1,
    )
    assert info.description == "Import a dataset."
    assert "dataset.import" in [t.type_id for t in client.job_types.list()]
    group = client.job_groups.get("dataset")
    assert (group.queue_name, group.description) == ("download", "data jobs")
    with pytest.raises(errors.NotFound):
        client.job_types.get("nope")
    with pytest.raises(errors.NotFound):
        client.job_groups.get("nope")


def test_delayed_job_waits_for_its_eta(client: Client) -> None:
    client.job_type("t.delayed")(lambda ctx, p: time.time())
    # 2 s, not 1: a loaded CI host once stalled this read past a 1 s ETA (stop 30).
    job = client.jobs.schedule("t.delayed", delay_sec=2)
    time.sleep(0.5)
    assert client.jobs.get(job.job_id).status is Status.WAITING
    done = client.jobs.wait(job.job_id, 10)
    assert done.result * 1000 >= job.eta_ms
    # The claim itself, not only the run, comes at or after the ETA.
    claims = [e for e in client.jobs.events(job.job_id) if e.to_status is Status.LOCKED]
    assert len(claims) == 1 and claims[0].at_ms >= job.eta_ms


def test_every_event_path_follows_the_machine(client: Client) -> None:
    client.job_type("t.path", max_retries=1, retry_delay_sec=0)(lambda ctx, p: 1 / p)
    ids = [client.jobs.schedule("t.path", p).job_id for p in (1, 0, 2)]
    for job_id in ids:
        client.jobs.wait(job_id, 15)
        steps = client.jobs.events(job_id)
        for before, after in itertools.pairwise(steps):
            assert after.from_status == before.to_status
            assert after.from_status is not None and machine.allowed(
                after.from_status, after.to_status
            )


def test_state_update_callback_sees_the_statuses(client: Client) -> None:
    seen: list[str] = []

    class Watcher(JobWorker):
        def execute(self, ctx: JobContext) -> str:
            while not ctx.cancelled:
                time.sleep(0.01)
            return "stopped"

        def on_state_update(self, ctx: JobContext, status: str) -> None:
            seen.append(status)

    client.job_type("t.watch", queue="maintenance")(Watcher)
    job = client.jobs.schedule("t.watch")
    wait_for(lambda: seen == ["running"])
    wait_for(lambda: client.jobs.get(job.job_id).status is Status.RUNNING)
    client.jobs.cancel(job.job_id)
    assert client.jobs.wait(job.job_id, 10).status is Status.CANCELED
    assert seen == ["running", "canceling", "canceled"]


def test_job_types_and_groups_list_pages_like_jobs_list(client: Any) -> None:
    for n in range(3):
        client.job_type(f"paged.t{n}", queue="maintenance")(lambda ctx, params: None)
    first = client.job_types.list(page=1, limit=2)
    assert isinstance(first, Page) and (first.page, first.limit) == (1, 2)
    assert first.total >= 3 and len(first) == 2
    ids = [t.type_id for t in first]
    # Page through the rest: a shared server's tenant may know other types that sort first.
    for number in range(2, (first.total + 1) // 2 + 1):
        page = client.job_types.list(page=number, limit=2)
        assert page.page == number and page.total == first.total
        ids += [t.type_id for t in page]
    assert len(ids) == first.total
    assert {"paged.t0", "paged.t1", "paged.t2"} <= set(ids) and len(ids) == len(set(ids))
    assert first[0].type_id == first.items[0].type_id
    jobs = client.jobs.list()
    assert isinstance(jobs, Page) and list(jobs) == jobs.items
    groups = client.job_groups.list(limit=1)
    assert isinstance(groups, Page) and len(groups) == 1 and groups.total >= 1
    assert "paged" in [g.name for g in client.job_groups.list()]
