"""``ControlHub``: seed 002's ``sch``, over a Headrace client (embedded or remote)."""

from __future__ import annotations

import json
import time
from collections.abc import Iterable
from typing import IO, Any

from headrace import errors
from headrace.controlhub import backend, models
from headrace.controlhub.builder import JobBuilder
from headrace.controlhub.job import Job, jobs
from headrace.controlhub.pipelines import Pipeline, pipelines
from headrace.model.facades import ControlHubStatus
from headrace.model.seekable import SeekableList, attributes
from headrace.pipeline import Pipeline as HeadracePipeline

#: How often ``wait_for_job_status`` and ``start_job(wait=True)`` look again.
POLL_SEC = 0.05


def _flatten(items: tuple[Any, ...]) -> list[Any]:
    # The SDK takes ``f(*jobs)`` and ``f(jobs)`` alike.
    if len(items) == 1 and isinstance(items[0], list | tuple | SeekableList):
        return list(items[0])
    return list(items)


def _job_ids(items: tuple[Any, ...]) -> list[str]:
    found = _flatten(items)
    for job in found:
        if not isinstance(job, Job):
            raise errors.InvalidInput("jobs", f"expected Job objects, got {type(job).__name__}")
    return [job._require_id() for job in found]


class ControlHub:
    """The Control Hub SDK's ``ControlHub`` over Headrace.

    ``ControlHub(client)`` works through a ``headrace.Client`` (embedded or remote);
    ``ControlHub("http://host:port", token=...)`` makes the remote client itself, and
    ``ControlHub()`` the embedded one of this directory.
    """

    def __init__(self, client: Any = None, *, token: str | None = None) -> None:
        if client is None or isinstance(client, str):
            from headrace.client.embedded import Client

            client = Client(client, token=token)
        self._client: backend.ControlPlaneClient = client

    @property
    def client(self) -> Any:
        """The Headrace client this facade works through."""
        return self._client

    # -- pipelines ----------------------------------------------------------------------

    def publish_pipeline(
        self,
        pipeline: HeadracePipeline,
        name: str,
        commit_message: str = "",
        labels: Iterable[str] = (),
    ) -> Pipeline:
        """Publish a Headrace pipeline under ``name``: version 1, or the next version.

        A Headrace pipeline has no title of its own, so it takes one here.

        Raises:
            InvalidInput: not a Pipeline, an empty name, or a pipeline that cannot run.
        """
        backend.publish(self._client, pipeline, name, commit_message, list(labels))
        return self.pipelines.get(name=name)

    @property
    def pipelines(self) -> SeekableList[Pipeline]:
        """Every published pipeline at its latest commit."""
        return pipelines(self._client, backend.published(self._client))

    # -- jobs ---------------------------------------------------------------------------

    def get_job_builder(self) -> JobBuilder:
        """A builder of jobs from published pipelines."""
        return JobBuilder(self._client)

    def add_job(self, job: Job) -> Job:
        """Store a built job; ``job`` gets its id and stored values.

        Raises:
            InvalidInput: the job is not one of this facade's, or already added.
        """
        if not isinstance(job, Job):
            raise errors.InvalidInput("job", f"expected a Job, got {type(job).__name__}")
        if job.job_id is not None:
            raise errors.InvalidInput("job", f"job {job.job_id} is already added")
        job._load(backend.create_job(self._client, job.definition()))
        return job

    @property
    def jobs(self) -> SeekableList[Job]:
        """Every job, newest first, with the SDK's filters (``job_name``, ``job_tag`` …)."""
        return jobs([Job(self._client, r) for r in backend.list_jobs(self._client)])

    def update_job(self, job: Job) -> Job:
        """Store a job's changed definition (name, description, commit, tags, parameters).

        Raises:
            NotFound: the job was deleted. InvalidInput: a value that does not fit.
        """
        job._load(backend.update_job(self._client, job._require_id(), job.definition()))
        return job

    def upgrade_job(self, *jobs_: Any) -> SeekableList[Job]:
        """Move jobs to their pipeline's latest commit."""
        records = backend.upgrade(self._client, _job_ids(jobs_))
        return jobs([Job(self._client, r) for r in records])

    def duplicate_job(
        self, job: Job, name: str | None = None, number_of_copies: int = 1
    ) -> SeekableList[Job]:
        """Copies of a job, named ``"<name> copy1"``, ``"<name> copy2"`` … (or ``name``).

        Raises:
            InvalidInput: ``number_of_copies`` out of range (1..10,000).
        """
        (job_id,) = _job_ids((job,))
        records = backend.duplicate(self._client, job_id, number_of_copies, name)
        return jobs([Job(self._client, r) for r in records])

    def delete_job(self, *jobs_: Any) -> None:
        """Delete jobs (an active one is refused: stop it first)."""
        for job_id in _job_ids(jobs_):
            backend.delete_job(self._client, job_id)

    # -- running ------------------------------------------------------------------------

    def start_job(self, *jobs_: Any, wait: bool = True, timeout_sec: float = 300) -> None:
        """Start a run of each job; ``wait`` until each has left ACTIVATING.

        Raises:
            Conflict: a job is active already, or its error awaits acknowledgement.
            TimeoutException: a job still ACTIVATING after ``timeout_sec``.
        """
        found = _flatten(jobs_)
        for job_id in _job_ids(jobs_):
            backend.start(self._client, job_id)
        if wait:
            for job in found:
                self._wait(job, lambda s: s.status is not ControlHubStatus.ACTIVATING, timeout_sec)

    def stop_job(self, *jobs_: Any, force: bool = False, timeout_sec: float = 300) -> None:
        """Stop each job's active run (keeping its offsets); ``force`` stops it at once."""
        found = _flatten(jobs_)
        for job_id in _job_ids(jobs_):
            backend.stop(self._client, job_id, force)
        for job in found:
            self._wait(job, lambda s: s.status is not ControlHubStatus.DEACTIVATING, timeout_sec)

    def wait_for_job_status(self, job: Job, status: str, timeout_sec: float = 300) -> None:
        """Block until the job shows ``status`` (``'ACTIVE'``, ``'INACTIVE'`` …).

        Raises:
            InvalidInput: not a Control Hub status. TimeoutException: not reached in time.
        """
        try:
            wanted = ControlHubStatus(status)
        except ValueError:
            known = ", ".join(ControlHubStatus)
            raise errors.InvalidInput("status", f"{status!r} is not one of {known}") from None
        self._wait(job, lambda s: s.status is wanted, timeout_sec)

    def _wait(self, job: Job, done: Any, timeout_sec: float | None) -> None:
        deadline = None if timeout_sec is None else time.monotonic() + timeout_sec
        while True:
            shown = job.status
            if done(shown):
                return
            if deadline is not None and time.monotonic() > deadline:
                msg = f"job {job.job_id} still {shown.status} after {timeout_sec} s"
                raise errors.TimeoutException(msg)
            time.sleep(POLL_SEC)

    def acknowledge_job_error(self, *jobs_: Any) -> None:
        """Acknowledge the error a job ended with, so that it may start again."""
        for job_id in _job_ids(jobs_):
            backend.acknowledge(self._client, job_id)

    # -- offsets ------------------------------------------------------------------------

    def reset_origin(self, *jobs_: Any) -> SeekableList[Job]:
        """Make each job's next run start its sources from the beginning."""
        ids = _job_ids(jobs_)
        for job_id in ids:
            backend.reset_offsets(self._client, job_id)
        return jobs([Job(self._client, backend.get_job(self._client, i)) for i in ids])

    def upload_offset(
        self,
        job: Job,
        offset_file: IO[str] | IO[bytes] | None = None,
        offset_json: dict[str, Any] | None = None,
    ) -> Job:
        """Make the job's next run start from these offsets (a file, or the JSON itself).

        Raises:
            InvalidInput: neither or both given, JSON that is not an offset, or an entity
                no source of the job's pipeline has.
        """
        if (offset_file is None) == (offset_json is None):
            msg = "give exactly one of offset_file and offset_json"
            raise errors.InvalidInput("offset_file", msg)
        if offset_file is not None:
            try:
                offset_json = json.load(offset_file)
            except ValueError as exc:
                raise errors.InvalidInput("offset_file", f"is not JSON: {exc}") from None
        (job_id,) = _job_ids((job,))
        backend.upload_offsets(self._client, job_id, offset_json)
        return job

    # -- archives -----------------------------------------------------------------------

    def export_jobs(self, jobs_: Iterable[Job]) -> bytes:
        """A ZIP archive of the jobs and the pipeline commits they run."""
        return backend.export_jobs(self._client, _job_ids((list(jobs_),)))

    def import_jobs(self, archive: IO[bytes], **options: Any) -> SeekableList[Job]:
        """Create the jobs of an archive (new ids, this user as owner); returns them.

        ``options``: ``offsets`` and ``parameters`` (``"keep"`` or ``"reset"``), ``project``.

        Raises:
            InvalidArchive: the archive is not Headrace's, or is damaged (the entry named);
                nothing is imported.
        """
        records = backend.import_jobs(self._client, archive.read(), **options)
        return jobs([Job(self._client, r) for r in records])

    # -- data collectors ----------------------------------------------------------------

    @property
    def data_collectors(self) -> SeekableList[models.DataCollector]:
        """The workers, as Control Hub's Data Collectors."""
        return SeekableList(
            backend.workers(self._client),
            kind="data collector",
            filters=attributes("id", "url"),
        )

    def balance_data_collectors(self, *data_collectors: Any) -> None:
        """Move running streaming jobs off the given workers' overload (issue 17).

        Raises:
            NotImplementedInHeadrace: while the client has no worker balancing.
        """
        ids = [d.id for d in _flatten(data_collectors)]
        backend.balance(self._client, ids)
