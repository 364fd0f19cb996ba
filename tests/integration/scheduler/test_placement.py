"""Worker labels and placement: a job runs only on a worker offering the labels it requires.

On both stores: the claim itself refuses a job whose labels the worker lacks (one claim,
no waiting on time), a job type's labels are its jobs', a job no live worker can take
says which labels are missing, and the workers listing shows labels, capacity, load.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from headrace import Client, errors
from headrace.model.status import Status
from headrace.scheduler.worker import Worker
from headrace.service.reasons import status_reason
from headrace.store.attempts import AttemptRepository
from headrace.store.workers import WorkerRepository

TYPES = ("place.any", "place.gpu")


@pytest.fixture
def client(store_url: str) -> Any:
    """An embedded client without workers, knowing a plain type and a type needing ``gpu``."""
    with Client(store_url, lease_sec=3.0, run_workers=False) as c:
        c.job_type("place.any", queue="compute")(lambda ctx, p: "any")
        c.job_type("place.gpu", queue="compute", labels="gpu")(lambda ctx, p: "gpu")
        yield c


def _claim(client: Client, worker_id: str, offered: tuple[str, ...]) -> set[str]:
    repo = AttemptRepository(client.store, worker_id, None, offered)
    return {c.job_id for c in repo.claim("compute", TYPES, 10, 3.0)}


def test_a_worker_claims_only_the_jobs_whose_labels_it_offers(client: Client) -> None:
    plain = client.jobs.schedule("place.any")
    on_gpu = client.jobs.schedule("place.gpu")
    gpu_eu = client.jobs.schedule("place.any", labels="eu,gpu")
    arm = client.jobs.schedule("place.gpu", labels=["arm"])
    assert client.jobs.get(on_gpu.job_id).labels == ("gpu",)  # the type's
    assert client.jobs.get(arm.job_id).labels == ("arm", "gpu")  # the job's and the type's
    wid = "00000000-0000-4000-8000-00000000000{}"
    assert _claim(client, wid.format(1), ()) == {plain.job_id}
    assert _claim(client, wid.format(2), ("eu",)) == set()
    assert _claim(client, wid.format(3), ("eu", "gpu", "x")) == {on_gpu.job_id, gpu_eu.job_id}
    assert client.jobs.get(arm.job_id).status is Status.WAITING


def test_a_job_no_live_worker_can_take_says_which_labels_are_missing(client: Client) -> None:
    job = client.jobs.schedule("place.gpu", labels="eu")
    workers = WorkerRepository(client.store)
    workers.register("00000000-0000-4000-8000-000000000001", {"compute": 2}, TYPES, ("eu",))
    workers.register("00000000-0000-4000-8000-000000000002", {"compute": 1}, TYPES)
    reason = client.jobs.status_reason(job.job_id)
    assert reason == (
        "no live worker serving queue 'compute' offers the labels it requires (eu, gpu); "
        "they offer: eu; no labels; start one with `headrace worker --labels eu,gpu`"
        " (a server's or an embedded "
        "client's own workers: `headrace server --labels eu,gpu`, `Client(labels='eu,gpu')`)"
    )
    workers.register("00000000-0000-4000-8000-000000000003", {"compute": 1}, TYPES, ("eu", "gpu"))
    assert status_reason(client.store, client.jobs.get(job.job_id)).startswith(
        "waiting for one of 1 worker(s) on queue 'compute'"
    )


def test_a_labelled_worker_runs_its_jobs_and_the_listing_shows_its_load(client: Client) -> None:
    job = client.jobs.schedule("place.gpu")
    worker = Worker(client.store, client.registry, {"compute": 2}, labels="gpu,eu").start()
    try:
        assert client.jobs.wait(job.job_id, 30).result == "gpu"
        listed = next(w for w in client.workers() if w.worker_id == worker.worker_id)
        assert listed.labels == ("eu", "gpu")
        assert (listed.capacity, listed.running, listed.load) == (2, 0, 0.0)
    finally:
        worker.stop()


def test_bad_labels_are_refused_naming_the_field_and_nothing_is_stored(client: Client) -> None:
    with pytest.raises(errors.InvalidInput) as caught:
        client.jobs.schedule("place.any", labels="GPU")
    assert caught.value.field == "labels"
    assert client.jobs.list().total == 0
    with pytest.raises(errors.InvalidInput, match="labels"):
        Worker(client.store, client.registry, {"compute": 1}, labels="eu west")
    with pytest.raises(errors.InvalidInput, match="labels"):
        client.job_type("place.bad", labels=["has space"])


def test_the_running_count_is_per_worker(client: Client) -> None:
    for _ in range(3):
        client.jobs.schedule("place.any")
    wid = "00000000-0000-4000-8000-000000000009"
    WorkerRepository(client.store).register(wid, {"compute": 4}, TYPES)
    assert len(_claim(client, wid, ())) == 3
    listed = next(w for w in client.workers() if w.worker_id == wid)
    # Claimed, not started: held (locked), in no slot yet.
    assert (listed.capacity, listed.running, listed.locked, listed.load) == (4, 0, 3, 0.0)
    others = [w for w in client.workers() if w.worker_id != wid]
    assert all(w.running == w.locked == 0 for w in others)


def test_an_embedded_clients_in_process_worker_offers_the_clients_labels(
    store_url: str, tmp_path: Path
) -> None:
    with Client(store_url, lease_sec=3.0, labels="gpu,eu", warm_pool=False) as c:
        c.job_type("place.gpu", queue="compute", labels="gpu")(lambda ctx, p: "gpu")
        job = c.jobs.schedule("place.gpu")  # starts the client's worker
        assert c.jobs.wait(job.job_id, 30).result == "gpu"
        (mine,) = c.workers()
        assert mine.labels == ("eu", "gpu")
        lacking = c.jobs.schedule("place.gpu", labels="tpu")
        assert c.jobs.status_reason(lacking.job_id) == (
            "no live worker serving queue 'compute' offers the labels it requires (gpu, tpu); "
            "they offer: eu, gpu; start one with `headrace worker --labels gpu,tpu`"
            " (a server's or an embedded "
            "client's own workers: `headrace server --labels gpu,tpu`, `Client(labels='gpu,tpu')`)"
        )
        assert c.jobs.get(lacking.job_id).status is Status.WAITING


def test_config_yaml_labels_are_an_embedded_clients_unless_it_names_its_own(
    store_url: str, tmp_path: Path
) -> None:
    config = tmp_path / "config.yaml"
    config.write_text("labels: [ssd, eu]\n")
    with Client(store_url, config_file=str(config), warm_pool=False) as c:
        c.job_type("place.ssd", queue="compute", labels="ssd")(lambda ctx, p: "ssd")
        assert c.jobs.wait(c.jobs.schedule("place.ssd").job_id, 30).result == "ssd"
        assert [w.labels for w in c.workers()] == [("eu", "ssd")]
    with Client(store_url, config_file=str(config), labels=[], warm_pool=False) as c:
        c.job_type("place.any", queue="compute")(lambda ctx, p: "any")
        assert c.jobs.wait(c.jobs.schedule("place.any").job_id, 30).result == "any"
        assert [w.labels for w in c.workers()] == [()]


def test_an_embedded_client_with_bad_labels_is_refused_naming_them(
    store_url: str, tmp_path: Path
) -> None:
    with pytest.raises(errors.InvalidInput) as caught:
        Client(store_url, labels="GPU", warm_pool=False)
    assert caught.value.field == "labels"
    config = tmp_path / "config.yaml"
    config.write_text("labels: [eu west]\n")
    with pytest.raises(errors.InvalidInput, match="labels"):
        Client(store_url, config_file=str(config), warm_pool=False)
