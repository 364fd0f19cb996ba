"""``client.archives`` over HTTP: export jobs to a ZIP, import one (the same errors)."""

from __future__ import annotations

import builtins
from collections.abc import Iterator, Sequence

from headrace import defaults, errors
from headrace.client.remote_shapes import job_from
from headrace.client.transport import Http
from headrace.model import text
from headrace.model.job import Job
from headrace.service.archive_file import Progress

#: Bytes per chunk of an upload or download (what a progress report counts).
CHUNK = 256 * 1024


class RemoteArchives:
    """Job archives of the token's tenant, through ``/job-definitions/export|import``."""

    def __init__(self, http: Http) -> None:
        self._http = http

    def export_jobs(
        self,
        job_ids: str | Sequence[str],
        *,
        offsets: bool = False,
        progress: Progress | None = None,
    ) -> bytes:
        """A ZIP archive of the jobs, the pipeline commits they pin and (``offsets``) offsets.

        Raises:
            InvalidInput: naming ``job_ids``. NotFound: a job (another tenant's included).
        """
        ids = [job_ids] if isinstance(job_ids, str) else list(job_ids)
        if not ids or len(ids) > defaults.MAX_ARCHIVE_JOBS:
            msg = f"give 1..{defaults.MAX_ARCHIVE_JOBS} job ids, got {len(ids)}"
            raise errors.InvalidInput("job_ids", msg)
        body = {"job_ids": [text.check_id("job_ids", j) for j in dict.fromkeys(ids)]}
        response = self._http.send(
            "POST", "/job-definitions/export", json={**body, "offsets": bool(offsets)}
        )
        data = response.content
        if progress is not None:
            progress("exporting", len(data), len(data))
        return data

    def import_jobs(
        self,
        archive: bytes,
        *,
        offsets: str = "keep",
        parameters: str = "keep",
        project: str | None = None,
        progress: Progress | None = None,
    ) -> builtins.list[Job]:
        """Create the archive's jobs and commits (new ids, this user as owner), or nothing.

        Raises:
            InvalidArchive: the archive or an entry is wrong (named); nothing imported.
            InvalidInput: naming ``offsets``, ``parameters`` or ``project``.
        """
        if not isinstance(archive, bytes | bytearray | memoryview):
            got = type(archive).__name__
            raise errors.InvalidArchive("archive", f"expected the archive's bytes, got {got}")
        data = bytes(archive)
        if len(data) > defaults.MAX_ARCHIVE_BYTES:
            raise errors.InvalidArchive("archive", f"is over {defaults.MAX_ARCHIVE_BYTES} bytes")
        query = {"offsets": offsets, "parameters": parameters}
        if project is not None:
            query["project"] = project

        def chunks() -> Iterator[bytes]:
            for start in range(0, len(data), CHUNK):
                yield data[start : start + CHUNK]
                if progress is not None:
                    progress("uploading", min(start + CHUNK, len(data)), len(data))

        found = self._http.call(
            "POST",
            "/job-definitions/import",
            params=query,
            content=chunks() if progress is not None else data,
            headers={"content-type": "application/zip", "content-length": str(len(data))},
        )
        return [job_from(j) for j in found["items"]]
