"""Job archives through both clients on both stores: export, import, refusal of bad archives."""

from __future__ import annotations

import io
import json
import time
import uuid
import zipfile
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import sqlalchemy
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from headrace import errors
from headrace.client.embedded import Client
from headrace.jet.pipeline import Pipeline
from headrace.model.jobconfig import JobConfig, ProcessingGuarantee
from headrace.model.status import Status
from headrace.service import archive_file
from headrace.store import tables

#: The stream source's one partition, as offsets name it.
ENTITY = "source#0/0"
#: Tables an import writes to: none may change when an archive is refused.
COUNTED = (
    tables.jobs,
    tables.job_events,
    tables.job_runs,
    tables.pipelines,
    tables.pipeline_commits,
    tables.pipeline_labels,
)


def triple(x: int) -> int:
    return x * 3


def keep(x: Any) -> Any:
    return x


def tripler() -> Pipeline:
    p = Pipeline.create()
    p.read_from(Pipeline.from_list("nums")).map(triple).write_to(Pipeline.to_list("tripled"))
    return p


def follower() -> Pipeline:
    p = Pipeline.create()
    p.read_from(Pipeline.from_stream("events")).map(keep).write_to(Pipeline.to_list("seen"))
    return p


@pytest.fixture
def fresh(client_kind: str, store_factory: Callable[[], str]) -> Iterator[Callable[[], Any]]:
    """Makes clients of the same kind as ``client``, each on an empty store of its own."""
    closers: list[Callable[[], None]] = []

    def make() -> Any:
        url = store_factory()
        if client_kind == "embedded":
            made = Client(url, lease_sec=3.0)
            closers.append(made.close)
            return made
        from in_process_server import InProcessServer

        served = InProcessServer(url, lease_sec=3.0)
        closers.append(served.stop)
        return served.client()

    yield make
    for close in reversed(closers):
        close()


def counts(client: Any) -> dict[str, int]:
    """Rows per table an import writes to (all tenants)."""
    with client.store.read() as conn:
        return {
            t.name: int(
                conn.execute(sqlalchemy.select(sqlalchemy.func.count()).select_from(t)).scalar_one()
            )
            for t in COUNTED
        }


def wait_for(predicate: Callable[[], bool], what: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


def defined(client: Any) -> tuple[Any, Any]:
    """Two jobs of one published pipeline, one run to its end, with everything set."""
    client.get_list("nums").extend([1, 2, 3])
    client.pipelines.publish(tripler(), "triple", "first", labels=["v1"])
    client.pipelines.publish(tripler(), "triple", "second", labels=["prod"])
    ran = client.jobs.create(
        "tripling",
        pipeline="triple",
        version=1,
        description="triples nums",
        tags=["team/data", "nightly"],
        runtime_parameters={"threshold": 3},
        parameter_sets={"low": {"threshold": 1}},
        config=JobConfig(max_retries=2),
    )
    other = client.jobs.create("latest", pipeline="triple", tags=["nightly"])
    client.jobs.start(ran.job_id)
    assert client.jobs.wait(ran.job_id, 60).status is Status.COMPLETED
    return client.jobs.get(ran.job_id), other


def test_export_then_import_into_a_fresh_store_runs_to_the_same_output(
    client: Any, fresh: Callable[[], Any]
) -> None:
    ran, other = defined(client)
    original = sorted(client.get_list("tripled"))
    data = client.archives.export_jobs([ran.job_id, other.job_id])
    assert data[:2] == b"PK" and data == client.archives.export_jobs([ran.job_id, other.job_id])

    target = fresh()
    target.get_list("nums").extend([1, 2, 3])
    reports: list[tuple[str, int, int]] = []
    imported = target.archives.import_jobs(data, progress=lambda *r: reports.append(r))

    assert reports and all(0 < done <= total for _, done, total in reports)
    assert reports[-1][1] == reports[-1][2]  # the last report says it is done
    assert [j.name for j in imported] == ["tripling", "latest"]
    assert {j.job_id for j in imported}.isdisjoint({ran.job_id, other.job_id})
    first = imported[0]
    assert first.status is Status.CREATED and first.run_count == 0
    assert first.description == "triples nums" and first.tags == ("nightly", "team/data")
    assert first.runtime_parameters == {"threshold": 3}
    assert first.parameter_sets == {"low": {"threshold": 1}}
    assert first.max_retries == ran.max_retries == 2
    # Both commits came along (version 1 pinned by one job, 2 by the other), labels too.
    assert [(c.version, c.labels) for c in target.pipelines.commits("triple")] == [
        (2, ("prod",)),
        (1, ("v1",)),
    ]
    assert (first.pipeline_version, imported[1].pipeline_version) == (1, 2)

    target.jobs.start(first.job_id)
    assert target.jobs.wait(first.job_id, 60).status is Status.COMPLETED
    assert sorted(target.get_list("tripled")) == original == [3, 6, 9]


def test_import_can_reset_parameters_and_the_importer_owns_the_jobs(client: Any) -> None:
    ran, _ = defined(client)
    data = client.archives.export_jobs(ran.job_id)
    client.jobs.delete(ran.job_id)
    other_user = str(uuid.uuid4())
    importer = client.for_tenant("00000000-0000-0000-0000-000000000000", other_user)
    (job,) = importer.archives.import_jobs(data, parameters="reset")
    assert job.user_id == other_user
    assert job.runtime_parameters == {} and job.parameter_sets == {}
    assert job.tags == ("nightly", "team/data")
    # A pipeline of the same name gets the imported commit as its next version.
    assert job.pipeline_name == "triple" and job.pipeline_version == 3
    with pytest.raises(errors.InvalidInput) as bad:
        client.archives.import_jobs(data, offsets="maybe")
    assert bad.value.field == "offsets"


def test_offsets_travel_with_the_archive_and_can_be_reset(
    client: Any, fresh: Callable[[], Any]
) -> None:
    client.get_stream("events", partitions=1).append(list(range(5)))
    client.pipelines.publish(follower(), "follow")
    config = JobConfig(
        processing_guarantee=ProcessingGuarantee.EXACTLY_ONCE, snapshot_interval_ms=100
    )
    job = client.jobs.create("follower", pipeline="follow", config=config)
    client.jobs.start(job.job_id)
    wait_for(lambda: client.jobs.offsets(job.job_id)["offsets"].get(ENTITY) == "5", "offset 5")
    client.jobs.stop(job.job_id, force=True)
    client.jobs.wait(job.job_id, 60)
    with_offsets = client.archives.export_jobs([job.job_id], offsets=True)
    entries = archive_file.read(with_offsets)
    body = json.loads(entries["jobs/0001.json"])
    assert body["offsets"]["offsets"] == {ENTITY: "5"}

    target = fresh()
    target.get_stream("events", partitions=1).append(list(range(10)))
    seen = target.get_list("seen")
    (kept,) = target.archives.import_jobs(with_offsets)
    target.jobs.start(kept.job_id)
    wait_for(lambda: len(seen) == 5, "the kept offsets' run to read 5..9")
    target.jobs.stop(kept.job_id, force=True)
    target.jobs.wait(kept.job_id, 60)
    assert list(seen) == [5, 6, 7, 8, 9]

    (reset,) = target.archives.import_jobs(with_offsets, offsets="reset")
    target.jobs.start(reset.job_id)
    wait_for(lambda: len(seen) == 15, "the reset job's run to read 0..9")
    target.jobs.stop(reset.job_id, force=True)
    target.jobs.wait(reset.job_id, 60)
    assert list(seen)[5:] == list(range(10))


def test_another_tenants_jobs_cannot_be_exported(client: Any) -> None:
    ran, _ = defined(client)
    stranger = client.for_tenant(str(uuid.uuid4()))
    with pytest.raises(errors.NotFound):
        stranger.archives.export_jobs([ran.job_id])
    with pytest.raises(errors.InvalidInput) as bad:
        client.archives.export_jobs([])
    assert bad.value.field == "job_ids"


def _reseal(entries: dict[str, bytes], rehash: bool = False) -> bytes:
    """An archive of ``entries`` with a valid seal (and, if ``rehash``, manifest checksums)."""
    if rehash:
        manifest = json.loads(entries["manifest.json"])
        manifest["entries"] = {
            n: archive_file.hashlib.sha256(d).hexdigest()
            for n, d in entries.items()
            if n != "manifest.json"
        }
        entries = {**entries, "manifest.json": json.dumps(manifest).encode()}
    return archive_file.write(list(entries.items()))


def test_an_archive_naming_a_missing_commit_imports_nothing_and_names_may_repeat(
    client: Any,
) -> None:
    ran, other = defined(client)
    data = client.archives.export_jobs([ran.job_id, other.job_id])
    entries = archive_file.read(data)
    without = {n: d for n, d in entries.items() if not n.startswith("commits/0002")}
    manifest = json.loads(without["manifest.json"])
    manifest["commits"] = ["commits/0001.json"]
    without["manifest.json"] = json.dumps(manifest).encode()
    before = counts(client)
    with pytest.raises(errors.InvalidArchive) as missing:
        client.archives.import_jobs(_reseal(without, rehash=True))
    assert missing.value.entry == "jobs/0002.json"
    assert "commits/0002.json" in str(missing.value)
    assert counts(client) == before
    # Beside the originals: a never-started job holds no name, so the copies may share them.
    copies = client.archives.import_jobs(data)
    assert [j.name for j in copies] == ["tripling", "latest"]
    assert len(client.jobs.find(name="latest")) == 2


#: Ways to damage an archive's entries while keeping it a sealed ZIP.
ENTRY_FAULTS = ("drop", "garble", "truncate", "swap", "add", "nul")


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
def test_fuzz_damaged_archives_import_nothing_and_say_why(client: Any, data: Any) -> None:
    if not client.pipelines.published():
        defined(client)  # once: hypothesis's examples share the client
    jobs = client.jobs.find(name="tripling") + client.jobs.find(name="latest")
    archive = client.archives.export_jobs([j.job_id for j in jobs], offsets=True)
    before = counts(client)
    damaged = _damage(archive, data)
    with pytest.raises(errors.InvalidArchive) as refused:
        client.archives.import_jobs(damaged)
    assert refused.value.entry and str(refused.value).startswith("archive: ")
    assert counts(client) == before


def _damage(archive: bytes, data: Any) -> bytes:
    """A byte-level or entry-level fault, chosen by hypothesis."""
    mode = data.draw(st.sampled_from(("bytes", "truncate", "entries")))
    if mode == "bytes":
        spots = data.draw(st.lists(st.integers(0, len(archive) - 1), min_size=1, max_size=8))
        out = bytearray(archive)
        for spot in spots:
            out[spot] = (out[spot] + data.draw(st.integers(1, 255))) % 256
        return bytes(out)
    if mode == "truncate":
        return archive[: data.draw(st.integers(0, len(archive) - 1))]
    entries = archive_file.read(archive)
    names = sorted(entries)
    name = data.draw(st.sampled_from(names))
    fault = data.draw(st.sampled_from(ENTRY_FAULTS))
    if fault == "drop":
        entries.pop(name)
    elif fault == "garble":
        entries[name] = data.draw(st.binary(min_size=1, max_size=64))
    elif fault == "truncate":
        entries[name] = entries[name][: data.draw(st.integers(0, len(entries[name]) - 1))]
    elif fault == "swap":
        others = [n for n in names if entries[n] != entries[name]]
        other = data.draw(st.sampled_from(others))
        entries[name], entries[other] = entries[other], entries[name]
    elif fault == "add":
        entries[data.draw(st.sampled_from(("jobs/9999.json", "extra.txt", "../evil")))] = b"{}"
    elif name.endswith(".json"):  # hostile text, checksums made to match
        body = json.loads(entries[name])
        body["note"] = "a\u0000b"
        entries[name] = json.dumps(body).encode()
        return _reseal(entries, rehash=True) if name != "manifest.json" else _write_any(entries)
    else:
        entries[name] += b"\x00"
    return _write_any(entries)


def _write_any(entries: dict[str, bytes]) -> bytes:
    """A sealed ZIP of any entry names (``archive_file.write`` writes only what it gets)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as out:
        for name, body in entries.items():
            out.writestr(name, body)
        out.comment = archive_file.SEAL + b"0" * archive_file.DIGEST_CHARS
    return archive_file.seal(buffer.getvalue())


def test_import_into_a_project_or_refuse_one_that_does_not_exist(
    client: Any, fresh: Callable[[], Any]
) -> None:
    client.projects.create("analytics")
    client.get_list("nums").extend([1])
    client.pipelines.publish(tripler(), "triple", project="analytics")
    job = client.jobs.create("tripling", pipeline="triple", project="analytics")
    data = client.archives.export_jobs([job.job_id])

    target = fresh()
    before = counts(target)
    with pytest.raises(errors.InvalidArchive) as missing:
        target.archives.import_jobs(data)
    assert missing.value.entry == "commits/0001.json" and "'analytics'" in str(missing.value)
    assert counts(target) == before
    with pytest.raises(errors.NotFound):
        target.archives.import_jobs(data, project="nowhere")
    (moved,) = target.archives.import_jobs(data, project="default")
    assert moved.project == "default"
    assert target.pipelines.describe("triple").project == "default"
    target.projects.create("analytics")
    with pytest.raises(errors.InvalidArchive) as elsewhere:
        target.archives.import_jobs(data)  # 'triple' now lives in 'default' here
    assert elsewhere.value.entry == "commits/0001.json" and "lives in project" in str(
        elsewhere.value
    )


def add_up(ctx: Any, params: dict[str, Any]) -> int:
    return int(sum(params["items"]) + params.get("bonus", 0))


def test_task_jobs_travel_too_and_need_their_type_where_imported(
    client: Any, fresh: Callable[[], Any]
) -> None:
    client.job_type("archives.add", queue="maintenance")(add_up)
    job = client.jobs.create(
        "adder", type="archives.add", params={"items": [1, 2]}, runtime_parameters={"bonus": 4}
    )
    data = client.archives.export_jobs(job.job_id)

    target = fresh()
    before = counts(target)
    with pytest.raises(errors.InvalidArchive) as unknown:
        target.archives.import_jobs(data)
    assert unknown.value.entry == "jobs/0001.json" and "archives.add" in str(unknown.value)
    assert counts(target) == before

    target.job_type("archives.add", queue="maintenance")(add_up)
    (imported,) = target.archives.import_jobs(data)
    assert imported.type == "archives.add" and imported.runtime_parameters == {"bonus": 4}
    target.jobs.start(imported.job_id)
    assert target.jobs.wait(imported.job_id, 60).result == 7
