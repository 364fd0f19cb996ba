"""Export jobs to one ZIP archive and import them, whole or not at all.

An archive (``archive_file`` writes and reads the ZIP) holds ``manifest.json``, one
``jobs/NNNN.json`` per job (name, description, tags, runtime parameters, parameter sets,
config, queue, project), the pipeline commits they pin (``commits/NNNN.json`` with the
commit's metadata, ``commits/NNNN.pickle`` the pipeline as stored) and, optionally, each
job's offsets (``offsets/NNNN.pickle``: the snapshot its next run would start from).

Import reads and checks everything first, then creates the commits (the next versions of
their pipelines in the importer's tenant) and the jobs (new ids, the importer as owner)
in one store transaction: an archive with any fault is refused whole, with an
``InvalidArchive`` naming the entry, and nothing of it is stored.
"""

from __future__ import annotations

import base64
import builtins
import hashlib
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from headrace import defaults, errors
from headrace.engine import offsets as engine_offsets
from headrace.model import text
from headrace.model.clock import now_ms
from headrace.model.job import Job
from headrace.model.jobconfig import JobConfig
from headrace.pipeline import Pipeline
from headrace.service import archive_file, projects
from headrace.service import definition_fields as fields
from headrace.service.commits import dag_of
from headrace.service.pipeline_runner import PIPELINE_JOB_TYPE, decode
from headrace.store import codec
from headrace.store.commits import CommitRepository
from headrace.store.database import Store
from headrace.store.projects import ProjectRepository
from headrace.store.runs import RunRepository

if TYPE_CHECKING:
    from headrace.service.jobs import JobService, Scope

#: The manifest's ``format``: what makes an archive Headrace's.
FORMAT = "headrace-jobs"
#: The archive format's version this code writes and reads.
VERSION = 1
#: What ``keep`` / ``reset`` options take.
CHOICES = ("keep", "reset")
#: Fields of a job entry.
JOB_FIELDS = frozenset(
    {
        "name",
        "description",
        "tags",
        "project",
        "queue",
        "require_error_ack",
        "runtime_parameters",
        "parameter_sets",
        "commit",
        "type",
        "params",
        "config",
        "offsets",
    }
)


@dataclass(frozen=True, slots=True)
class _Commit:
    """A commit of the archive, checked: what importing it publishes."""

    entry: str
    pipeline_name: str
    project: str
    message: str
    labels: tuple[str, ...]
    blob: str
    dag: dict[str, Any]


@dataclass(frozen=True, slots=True)
class _Job:
    """A job of the archive, checked: its row, and the commit entry it pins (if any)."""

    entry: str
    row: dict[str, Any]
    commit: str | None


def _bad(entry: str, message: str) -> errors.InvalidArchive:
    return errors.InvalidArchive(entry, message)


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _check_listed(
    entries: Mapping[str, bytes], listed: Mapping[str, Any], named: Sequence[str]
) -> None:
    """Every entry is in the manifest with its checksum, and everything it names is there."""
    for name in sorted(set(entries) - {"manifest.json"} | set(listed) | set(named)):
        shown = ascii(str(name)[:80])[1:-1]
        if name not in entries:
            raise _bad(shown, "is listed in the manifest but missing from the archive")
        if name not in listed:
            raise _bad(name, "is in the archive but not in its manifest")
        if listed[name] != _sha(entries[name]):
            raise _bad(name, "does not match its checksum in the manifest")


def _choice(field: str, value: object) -> str:
    if value not in CHOICES:
        raise errors.InvalidInput(field, f"must be 'keep' or 'reset', got {value!r}")
    return str(value)


class ArchiveService:
    """One tenant's job archives: ``client.archives``."""

    def __init__(self, store: Store, jobs: JobService, scope: Scope) -> None:
        self.store = store
        self.jobs = jobs
        self.scope = scope

    @property
    def _commits(self) -> CommitRepository:
        return CommitRepository(self.store, self.scope.tenant_id)

    # -- export -------------------------------------------------------------------------

    def export_jobs(
        self,
        job_ids: str | Sequence[str],
        *,
        offsets: bool = False,
        progress: archive_file.Progress | None = None,
    ) -> bytes:
        """A ZIP archive of the jobs, the pipeline commits they pin and (``offsets``) offsets.

        Raises:
            InvalidInput: naming ``job_ids`` (none, too many, a job of no published
                pipeline). NotFound: a job that does not exist or is another tenant's.
        """
        ids = [job_ids] if isinstance(job_ids, str) else list(job_ids)
        if not ids or len(ids) > defaults.MAX_ARCHIVE_JOBS:
            msg = f"give 1..{defaults.MAX_ARCHIVE_JOBS} job ids, got {len(ids)}"
            raise errors.InvalidInput("job_ids", msg)
        jobs = [self.jobs.get(text.check_id("job_ids", j)) for j in dict.fromkeys(ids)]
        entries: list[tuple[str, bytes]] = []
        commit_entries: dict[tuple[str, int], str] = {}
        job_entries: list[str] = []
        for n, job in enumerate(jobs, 1):
            entry = f"jobs/{n:04d}.json"
            body = self._job_body(job, commit_entries, entries, offsets, n)
            entries.append((entry, archive_file.dump_json(body)))
            job_entries.append(entry)
            if progress is not None:
                progress("exporting", n, len(jobs))
        manifest = {
            "format": FORMAT,
            "version": VERSION,
            "jobs": job_entries,
            "commits": sorted(commit_entries.values()),
            "entries": {name: _sha(data) for name, data in entries},
        }
        return archive_file.write([("manifest.json", archive_file.dump_json(manifest)), *entries])

    def _job_body(
        self,
        job: Job,
        commit_entries: dict[tuple[str, int], str],
        entries: list[tuple[str, bytes]],
        offsets: bool,
        n: int,
    ) -> dict[str, Any]:
        definition = self.jobs._definition(job)
        body: dict[str, Any] = {
            "name": job.name,
            "description": job.description or "",
            "tags": list(job.tags),
            "project": job.project,
            "queue": job.queue,
            "require_error_ack": job.require_error_ack,
            "runtime_parameters": job.runtime_parameters,
            "parameter_sets": job.parameter_sets,
            "commit": None,
            "type": None,
            "params": None,
            "config": None,
            "offsets": None,
        }
        if job.type != PIPELINE_JOB_TYPE:
            body.update(type=job.type, params=definition.get("params"))
            return body
        if job.pipeline_name is None:
            msg = f"job {job.job_id} runs no published pipeline (publish it, define the job)"
            raise errors.InvalidInput("job_ids", msg)
        key = (job.pipeline_name, job.pipeline_version or 1)
        if key not in commit_entries:
            commit_entries[key] = self._add_commit(key, len(commit_entries) + 1, entries)
        body.update(commit=commit_entries[key], config=definition.get("config") or {})
        if offsets:
            seed, _ = self.jobs.seed_for_next_run(job)
            if seed is not None:
                entry = f"offsets/{n:04d}.pickle"
                entries.append((entry, seed))
                body["offsets"] = {
                    "entry": entry,
                    "version": engine_offsets.OFFSETS_VERSION,
                    "offsets": engine_offsets.read(seed),
                }
        return body

    def _add_commit(self, key: tuple[str, int], n: int, entries: list[tuple[str, bytes]]) -> str:
        name, version = key
        commit = self._commits.commit(name, version)
        pickled = base64.b64decode(self._commits.blob(name, version))
        entry, blob_entry = f"commits/{n:04d}.json", f"commits/{n:04d}.pickle"
        meta = {
            "pipeline_name": name,
            "version": version,
            "project": self._commits.info(name).project,
            "message": commit.message,
            "labels": list(commit.labels),
            "created_at_ms": commit.created_at_ms,
            "dag": commit.dag,
            "pipeline": blob_entry,
        }
        entries.append((blob_entry, pickled))
        entries.append((entry, archive_file.dump_json(meta)))
        return entry

    # -- import -------------------------------------------------------------------------

    def import_jobs(
        self,
        archive: bytes,
        *,
        offsets: str = "keep",
        parameters: str = "keep",
        project: str | None = None,
        progress: archive_file.Progress | None = None,
    ) -> builtins.list[Job]:
        """Create the archive's jobs and commits (new ids, this user as owner), or nothing.

        ``offsets="reset"`` starts the jobs' first runs from their sources' beginnings
        (else from the archive's offsets, when it has them); ``parameters="reset"``
        imports the jobs without runtime parameters and parameter sets. ``project`` puts
        every job and pipeline there (else each goes to the project the archive names).

        Raises:
            InvalidArchive: the archive or an entry is wrong (named); nothing imported.
            InvalidInput: naming ``offsets``, ``parameters`` or ``project``.

        Imported jobs may share names with the tenant's (a never-started job holds none);
        starting one while another job of its name runs is refused then.
        """
        keep_offsets = _choice("offsets", offsets) == "keep"
        keep_parameters = _choice("parameters", parameters) == "keep"
        if project is not None:
            ProjectRepository(self.store, self.scope.tenant_id).check(
                projects.check_name("project", project)
            )
        entries = archive_file.read(archive, progress)
        manifest = self._manifest(entries)
        commits = {e: self._commit(e, entries, project) for e in manifest["commits"]}
        jobs = [
            self._job(e, entries, commits, keep_offsets, keep_parameters, project)
            for e in manifest["jobs"]
        ]
        created = self._store_all(commits, jobs)
        if progress is not None:
            progress("imported", len(created), len(created))
        return created

    def _manifest(self, entries: Mapping[str, bytes]) -> dict[str, Any]:
        manifest = archive_file.load_json("manifest.json", entries["manifest.json"])
        if manifest.get("format") != FORMAT:
            raise _bad("manifest.json", f"is not a Headrace job archive's (format {FORMAT!r})")
        if manifest.get("version") != VERSION:
            msg = f"has format version {manifest.get('version')!r}; this Headrace reads {VERSION}"
            raise _bad("manifest.json", msg)
        listed = manifest.get("entries")
        if not isinstance(listed, dict):
            raise _bad("manifest.json", "has no 'entries' object")
        for field, prefix in (("jobs", "jobs/"), ("commits", "commits/")):
            names = manifest.get(field)
            if not isinstance(names, list) or not all(
                isinstance(n, str) and n.startswith(prefix) and n.endswith(".json") for n in names
            ):
                raise _bad("manifest.json", f"'{field}' must list the {prefix}*.json entries")
            if len(set(names)) != len(names):
                raise _bad("manifest.json", f"'{field}' lists an entry twice")
        if not manifest["jobs"] or len(manifest["jobs"]) > defaults.MAX_ARCHIVE_JOBS:
            msg = f"must list 1..{defaults.MAX_ARCHIVE_JOBS} jobs, got {len(manifest['jobs'])}"
            raise _bad("manifest.json", msg)
        _check_listed(entries, listed, [*manifest["jobs"], *manifest["commits"]])
        return manifest

    def _commit(self, entry: str, entries: Mapping[str, bytes], project: str | None) -> _Commit:
        meta = archive_file.load_json(entry, entries[entry])
        name = self._field(entry, "pipeline_name", meta, projects.check_name)
        labels = meta.get("labels", [])
        if not isinstance(labels, list):
            raise _bad(entry, "'labels' must be a list of names")
        for label in labels:
            self._field(entry, "labels", {"labels": label}, projects.check_name)
        message = meta.get("message", "")
        if not isinstance(message, str):
            raise _bad(entry, "'message' must be a string")
        home = project or self._field(entry, "project", meta, projects.check_name)
        try:
            ProjectRepository(self.store, self.scope.tenant_id).check(home)
        except errors.NotFound:
            msg = f"project {home!r} does not exist here (create it, or import with project=)"
            raise _bad(entry, msg) from None
        blob_entry = meta.get("pipeline")
        if not isinstance(blob_entry, str) or not blob_entry.endswith(".pickle"):
            raise _bad(entry, "'pipeline' must name the commit's .pickle entry")
        if blob_entry not in entries:
            raise _bad(ascii(blob_entry[:80])[1:-1], f"is missing (commit {entry} names it)")
        pickled = entries[blob_entry]
        try:
            pipeline = decode(base64.b64encode(pickled).decode("ascii"))
        except Exception as exc:  # any unpickling failure is a damaged entry
            raise _bad(blob_entry, f"is not a pickled pipeline: {type(exc).__name__}") from None
        if not isinstance(pipeline, Pipeline):
            raise _bad(blob_entry, f"holds a {type(pipeline).__name__}, not a Pipeline")
        try:
            pipeline.validate()
        except errors.InvalidInput as exc:
            raise _bad(blob_entry, str(exc)) from None
        return _Commit(
            entry=entry,
            pipeline_name=name,
            project=home,
            message=message,
            labels=tuple(labels),
            blob=base64.b64encode(pickled).decode("ascii"),
            dag=dag_of(pipeline),
        )

    @staticmethod
    def _field(entry: str, field: str, body: Mapping[str, Any], check: Any) -> Any:
        try:
            return check(field, body.get(field))
        except errors.InvalidInput as exc:
            raise _bad(entry, str(exc)) from None

    def _job(
        self,
        entry: str,
        entries: Mapping[str, bytes],
        commits: Mapping[str, _Commit],
        keep_offsets: bool,
        keep_parameters: bool,
        project: str | None,
    ) -> _Job:
        body = archive_file.load_json(entry, entries[entry])
        unknown = sorted(set(body) - JOB_FIELDS)
        if unknown:
            raise _bad(entry, f"has unknown fields: {', '.join(unknown)}")
        seed = self._seed(entry, body.get("offsets"), entries)
        if seed is not None and body.get("commit") is None:
            raise _bad(entry, "only a pipeline job has offsets")
        try:
            row, commit = self._row(
                body, commits, seed if keep_offsets else None, keep_parameters, project
            )
        except errors.InvalidArchive:
            raise
        except (errors.InvalidInput, errors.NotFound) as exc:
            raise _bad(entry, str(exc)) from None
        return _Job(entry, row, commit)

    def _row(
        self,
        body: Mapping[str, Any],
        commits: Mapping[str, _Commit],
        seed: str | None,
        keep_parameters: bool,
        project: str | None,
    ) -> tuple[dict[str, Any], str | None]:
        name = body.get("name")
        if name is not None:
            projects.check_name("name", name)
        home = project or projects.check_name("project", body.get("project"))
        ProjectRepository(self.store, self.scope.tenant_id).check(home)
        runtime = fields.check_dict("runtime_parameters", body.get("runtime_parameters"))
        sets = fields.check_sets(body.get("parameter_sets"))
        if not keep_parameters:
            runtime, sets = {}, {}
        at = now_ms()
        row: dict[str, Any] = {
            "tenant_id": self.scope.tenant_id,
            "user_id": self.scope.user_id,
            "idempotency_key": None,
            "name": name,
            "description": fields.check_text("description", body.get("description", "")),
            "scheduled_at_ms": at,
            "updated_at_ms": at,
            "eta_ms": at,
            "progress": 0.0,
            "attempt": 0,
            "retries": 0,
            "resumed": False,
            "project": home,
            "tags": codec.dumps(fields.check_tags(body.get("tags", [])), "tags"),
            "runtime_parameters": codec.dumps(runtime, "runtime_parameters"),
            "parameter_sets": codec.dumps(sets, "parameter_sets"),
            "require_error_ack": body.get("require_error_ack") is True,
            "params": codec.dumps(None, "params"),
        }
        commit = body.get("commit")
        if commit is None:
            row.update(self._task_columns(body, runtime))
            return row, None
        if not isinstance(commit, str) or commit not in commits:
            msg = f"names commit {commit!r}, which the archive does not hold"
            raise errors.InvalidInput("commit", msg)
        if commits[commit].project != home:
            msg = f"pins {commit} of project {commits[commit].project!r}, not {home!r}"
            raise errors.InvalidInput("project", msg)
        cfg = self._config(body.get("config"))
        info = self.jobs.job_type(PIPELINE_JOB_TYPE)
        definition: dict[str, Any] = {
            "config": cfg.to_dict(),
            "local_parallelism": cfg.local_parallelism,
        }
        timeout = None if cfg.timeout_ms is None else math.ceil(cfg.timeout_ms / 1000)
        row.update(
            type=PIPELINE_JOB_TYPE,
            pipeline_name=commits[commit].pipeline_name,
            queue=fields.check_queue(body.get("queue"), info.queue),
            timeout_sec=timeout or 0,
            max_retries=cfg.max_retries,
            retry_delay_sec=0,
            definition=definition,
        )
        if seed is not None:
            row["definition"] = {**definition, "offsets": {"seed": seed}}
        return row, commit

    @staticmethod
    def _config(value: object) -> JobConfig:
        if not isinstance(value, dict):
            raise errors.InvalidInput("config", "must be a JobConfig's fields")
        try:
            return fields.check_config(value)
        except TypeError as exc:
            raise errors.InvalidInput("config", str(exc)) from None

    def _task_columns(self, body: Mapping[str, Any], runtime: dict[str, Any]) -> dict[str, Any]:
        type_id = body.get("type")
        if not isinstance(type_id, str):
            raise errors.InvalidInput("type", "a job names a commit or a job type")
        info = self.jobs.job_type(type_id)
        params = body.get("params")
        self.jobs._task_params(info.type_id, {"params": params}, runtime)  # refused before a write
        return {
            "type": info.type_id,
            "queue": fields.check_queue(body.get("queue"), info.queue),
            "timeout_sec": info.timeout_sec,
            "max_retries": info.max_retries,
            "retry_delay_sec": info.retry_delay_sec,
            "definition": {"params": params},
        }

    @staticmethod
    def _seed(entry: str, offsets: object, entries: Mapping[str, bytes]) -> str | None:
        """The job's offsets entry, checked, as the pending seed of its first run."""
        if offsets is None:
            return None
        if not isinstance(offsets, dict) or not isinstance(offsets.get("entry"), str):
            raise _bad(entry, "'offsets' must name the job's offsets/*.pickle entry")
        name = offsets["entry"]
        if not name.startswith("offsets/") or name not in entries:
            raise _bad(ascii(name[:80])[1:-1], f"is missing ({entry} names it)")
        try:
            engine_offsets.read(entries[name])
        except Exception as exc:  # any unpickling failure is a damaged entry
            raise _bad(name, f"is not a snapshot of offsets: {type(exc).__name__}") from None
        return base64.b64encode(entries[name]).decode("ascii")

    def _store_all(self, commits: Mapping[str, _Commit], jobs: Sequence[_Job]) -> list[Job]:
        """Publish the commits and create the jobs in one transaction."""
        repo = self._commits
        runs = RunRepository(self.store, self.scope.tenant_id)
        user = self.scope.user_id
        with self.store.write() as conn:
            versions: dict[str, int] = {}
            for entry, c in commits.items():
                found = repo.project_in(conn, c.pipeline_name)
                if found is not None and found != c.project:
                    msg = f"pipeline {c.pipeline_name!r} lives in project {found!r} here"
                    raise _bad(entry, f"{msg}, not {c.project!r}")
                taken = repo.labels_in(conn, c.pipeline_name)
                labels = [label for label in c.labels if label not in taken]
                published = repo.publish_in(
                    conn, c.pipeline_name, c.project, c.blob, c.dag, c.message, labels, user
                )
                versions[entry] = published.version
            rows = []
            for job in jobs:
                row = dict(job.row)
                if job.commit is not None:
                    row["pipeline_version"] = versions[job.commit]
                row["definition"] = codec.dumps(row["definition"], "params")
                rows.append(row)
            return runs.create_in(conn, rows, user)
