"""The remote client against a real server: the embedded client's interface and errors."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from server_process import Tenant

from headrace import errors
from headrace.client.remote import Client, is_remote
from headrace.model.status import Status


@pytest.fixture
def remote(tenant: Callable[[], Tenant]) -> Iterator[Client]:
    t = tenant()
    with Client(t.url, token=t.tokens["operator"]) as client:
        yield client


def test_jobs_through_the_remote_client(remote: Client) -> None:
    job, created = remote.jobs.schedule_ex("api.add", {"a": 2, "b": 3}, idempotency_key="k")
    assert created and job.status is Status.WAITING
    same, created = remote.jobs.schedule_ex("api.add", {"a": 2, "b": 3}, idempotency_key="k")
    assert not created and same.job_id == job.job_id
    done = remote.jobs.wait(job.job_id, timeout=20)
    assert done.status is Status.COMPLETED and done.result == {"sum": 5}
    assert remote.jobs.get(job.job_id) == done
    assert [e.to_status for e in remote.jobs.events(job.job_id)][-1] is Status.COMPLETED
    page = remote.jobs.list(status=["completed"], limit=5)
    assert page.total == 1 and page.items == [done]
    later = remote.jobs.schedule("api.echo", "x", delay_sec=3600)
    assert remote.jobs.suspend(later.job_id).status is Status.SUSPENDED
    assert remote.jobs.resume(later.job_id).status is Status.WAITING
    assert remote.jobs.cancel(later.job_id).status is Status.CANCELED
    assert remote.jobs.delete(later.job_id).job_id == later.job_id
    assert "api.add" in [t.type_id for t in remote.job_types.list()]
    assert remote.job_types.get("api.add").params_schema is not None
    assert remote.job_groups.get("api").queue_name == "maintenance"


def test_the_remote_client_raises_the_embedded_clients_errors(
    remote: Client, tenant: Callable[[], Tenant]
) -> None:
    with pytest.raises(errors.InvalidInput) as bad:
        remote.jobs.schedule("api.add", {"a": "x"})
    assert bad.value.field == "params.a"
    with pytest.raises(errors.NotFound) as missing:
        remote.jobs.schedule("no.such")
    assert missing.value.kind == "job type" and missing.value.id == "no.such"
    with pytest.raises(errors.InvalidInput) as order:
        remote.jobs.list(order="-nope")
    assert order.value.field == "order"
    done = remote.jobs.schedule("api.echo", 1)
    remote.jobs.wait(done.job_id, timeout=20)
    with pytest.raises(errors.IllegalTransition) as illegal:
        remote.jobs.cancel(done.job_id)
    assert illegal.value.current == "completed" and illegal.value.job_id == done.job_id
    with pytest.raises(errors.TimeoutException):
        remote.jobs.wait(remote.jobs.schedule("api.echo", delay_sec=3600).job_id, timeout=0.1)
    t = tenant()
    with Client(t.url, token=t.tokens["viewer"]) as viewer:
        with pytest.raises(errors.PermissionDenied):
            viewer.jobs.schedule("api.echo")
        with pytest.raises(errors.NotFound):
            viewer.jobs.get(done.job_id)
        assert viewer.for_tenant(t.tenant_id) is viewer
        with pytest.raises(errors.PermissionDenied):
            viewer.for_tenant("00000000-0000-0000-0000-000000000000")
    with Client(t.url, token="hr_wrong") as stranger, pytest.raises(errors.Unauthenticated):
        stranger.jobs.list()
    with Client("http://127.0.0.1:9", timeout=1) as nowhere, pytest.raises(errors.StoreUnavailable):
        nowhere.jobs.list()


def test_data_structures_through_the_remote_client(remote: Client) -> None:
    items = remote.get_list("l")
    assert len(items) == 0 and items.to_list() == []
    items.extend([1, 2, 3])
    items.append({"four": 4})
    assert len(items) == 4 and items[-1] == {"four": 4} and items[1:3] == [2, 3]
    with pytest.raises(IndexError):
        items[10]
    m = remote.get_map("m")
    m.put("a", 1)
    m.put_all({"b": 2, "c": [3]})
    assert m.to_dict() == {"a": 1, "b": 2, "c": [3]} and "a" in m and "z" not in m
    assert m.get("z", "dflt") == "dflt" and m.remove("a") == 1 and len(m) == 2
    with pytest.raises(KeyError):
        m["a"]
    s = remote.get_stream("s", partitions=2)
    assert sorted(s.publish_all([1, 2])) == [(0, 0), (1, 0)]
    partition, offset = s.publish("k", key="user")
    assert s.read(partition, offset) == ["k"] and s.partition_count() == 2
    assert s.end_offset(partition) == offset + 1 and not s.is_closed()


def test_is_remote() -> None:
    assert is_remote("http://h:1") and is_remote("https://h")
    assert not is_remote("postgresql://x") and not is_remote(None) and not is_remote("a.db")


def test_remote_put_all_is_one_request(remote: Client) -> None:
    sent: list[str] = []
    remote._http.client.event_hooks["request"].append(
        lambda r: sent.append(f"{r.method} {r.url.path}")
    )
    m = remote.get_map("bulk")
    m.put_all({f"k{i}": {"n": i} for i in range(2_000)})
    assert sent == ["POST /maps/bulk"]
    m.put_all([("k0", "again"), ("k1", 1), ("k0", "last")])  # a later pair of a key wins
    assert len(sent) == 2
    got = m.to_dict()
    assert len(got) == 2_000 and got["k0"] == "last" and got["k1"] == 1 and got["k5"] == {"n": 5}
    with pytest.raises(errors.InvalidInput):
        m.put_all({"ok": 1, 2: "not a string key"})  # type: ignore[dict-item]
    assert len(sent) == 3 and "ok" not in m  # refused before anything was sent


def test_remote_schedule_many_is_one_request(remote: Client) -> None:
    sent: list[str] = []
    remote._http.client.event_hooks["request"].append(
        lambda r: sent.append(f"{r.method} {r.url.path}")
    )
    # Delayed, so the server's worker runs none of them before they are read back.
    jobs = remote.jobs.schedule_many(
        "api.add", [{"a": i, "b": i} for i in range(2_000)], delay_sec=3600
    )
    assert sent == ["POST /jobs/batch"]
    assert [j.params["a"] for j in jobs] == list(range(2_000))
    for job in (jobs[0], jobs[1_999]):
        assert remote.jobs.get(job.job_id) == job
    with pytest.raises(errors.InvalidInput) as bad:
        remote.jobs.schedule_many("api.add", [{"a": 1, "b": 1}, {"a": "x", "b": 1}])
    assert bad.value.field == "params[1].a"
    assert remote.jobs.list().total == 2_000  # the refused batch stored nothing
    (now,) = remote.jobs.schedule_many("api.add", [{"a": 0, "b": 0}])
    done = remote.jobs.wait(now.job_id, timeout=20)
    assert done.status is Status.COMPLETED and done.result == {"sum": 0}
