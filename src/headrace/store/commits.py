"""Published pipelines as rows: commits (version 1, 2, …) and the labels naming them."""

from __future__ import annotations

import builtins
import json
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, RowMapping, delete, func, insert, select, update

from headrace import errors
from headrace.model.clock import now_ms
from headrace.model.controlplane import PipelineCommit, PipelineInfo
from headrace.store import tables
from headrace.store.database import Store

PL, C, L, J = tables.pipelines, tables.pipeline_commits, tables.pipeline_labels, tables.jobs


class CommitRepository:
    """One tenant's published pipelines, their commits and labels."""

    def __init__(self, store: Store, tenant_id: str) -> None:
        self.store = store
        self.tenant_id = tenant_id

    # -- writing ------------------------------------------------------------------------

    def publish(
        self,
        name: str,
        project: str,
        blob: str,
        dag: dict[str, Any],
        message: str,
        labels: Sequence[str],
        user_id: str,
    ) -> PipelineCommit:
        """Store the next commit of ``name`` (creating the pipeline) and point labels at it."""
        with self.store.write() as conn:
            return self.publish_in(conn, name, project, blob, dag, message, labels, user_id)

    def publish_in(
        self,
        conn: Connection,
        name: str,
        project: str,
        blob: str,
        dag: dict[str, Any],
        message: str,
        labels: Sequence[str],
        user_id: str,
    ) -> PipelineCommit:
        """``publish`` inside the caller's transaction (an archive imports many at once)."""
        at = now_ms()
        head = self._head(conn, name, lock=True)
        if head is None:
            version = 1
            conn.execute(
                insert(PL).values(
                    tenant_id=self.tenant_id,
                    name=name,
                    project=project,
                    latest_version=1,
                    created_at_ms=at,
                )
            )
        else:
            version = int(head["latest_version"]) + 1
            conn.execute(
                update(PL)
                .where(PL.c.tenant_id == self.tenant_id, PL.c.name == name)
                .values(latest_version=version)
            )
        conn.execute(
            insert(C).values(
                tenant_id=self.tenant_id,
                pipeline_name=name,
                version=version,
                message=message,
                user_id=user_id,
                created_at_ms=at,
                pipeline=blob,
                dag=json.dumps(dag),
            )
        )
        for label in labels:
            self._set_label(conn, name, label, version)
        return PipelineCommit(name, version, message, user_id, at, dag, tuple(labels))

    def project_in(self, conn: Connection, name: str) -> str | None:
        """The project of the published pipeline ``name`` (None: not published)."""
        head = self._head(conn, name, lock=True)
        return None if head is None else str(head["project"])

    def labels_in(self, conn: Connection, name: str) -> dict[str, int]:
        """The pipeline's labels and their versions, in the caller's transaction."""
        return self._labels(conn, name)

    def label(self, name: str, label: str, version: int) -> None:
        """Point ``label`` at ``version`` (moving it if it pointed elsewhere).

        Raises:
            NotFound: no such pipeline or commit.
        """
        with self.store.write() as conn:
            self._commit_row(conn, name, version)
            self._set_label(conn, name, label, version)

    def _set_label(self, conn: Connection, name: str, label: str, version: int) -> None:
        where = (L.c.tenant_id == self.tenant_id, L.c.pipeline_name == name, L.c.label == label)
        conn.execute(delete(L).where(*where))
        conn.execute(
            insert(L).values(
                tenant_id=self.tenant_id, pipeline_name=name, label=label, version=version
            )
        )

    def delete(self, name: str) -> None:
        """Delete a pipeline with its commits and labels.

        Raises:
            NotFound: no such pipeline. Conflict: a job pins one of its commits.
        """
        with self.store.write() as conn:
            if self._head(conn, name, lock=True) is None:
                raise errors.NotFound("pipeline", name)
            pinned = conn.execute(
                select(J.c.job_id)
                .where(J.c.tenant_id == self.tenant_id, J.c.pipeline_name == name)
                .limit(1)
            ).scalar()
            if pinned is not None:
                msg = f"pipeline {name!r} is pinned by job {pinned}; delete that job first"
                raise errors.Conflict(msg)
            for table, column in ((L, L.c.pipeline_name), (C, C.c.pipeline_name), (PL, PL.c.name)):
                conn.execute(
                    delete(table).where(table.c.tenant_id == self.tenant_id, column == name)
                )

    # -- reading ------------------------------------------------------------------------

    def _head(self, conn: Connection, name: str, lock: bool = False) -> RowMapping | None:
        stmt = select(PL).where(PL.c.tenant_id == self.tenant_id, PL.c.name == name)
        if lock and self.store.is_postgresql:
            stmt = stmt.with_for_update()
        return conn.execute(stmt).mappings().first()

    def _commit_row(self, conn: Connection, name: str, version: int) -> RowMapping:
        row = (
            conn.execute(
                select(C).where(
                    C.c.tenant_id == self.tenant_id,
                    C.c.pipeline_name == name,
                    C.c.version == version,
                )
            )
            .mappings()
            .first()
        )
        if row is None:
            if self._head(conn, name) is None:
                raise errors.NotFound("pipeline", name)
            raise errors.NotFound("pipeline commit", f"{name} v{version}")
        return row

    def _labels(self, conn: Connection, name: str) -> dict[str, int]:
        rows = conn.execute(
            select(L.c.label, L.c.version)
            .where(L.c.tenant_id == self.tenant_id, L.c.pipeline_name == name)
            .order_by(L.c.label)
        )
        return {str(r[0]): int(r[1]) for r in rows}

    def info(self, name: str) -> PipelineInfo:
        """The published pipeline.

        Raises:
            NotFound: no such pipeline.
        """
        with self.store.read() as conn:
            head = self._head(conn, name)
            if head is None:
                raise errors.NotFound("pipeline", name)
            return PipelineInfo(
                name,
                head["project"],
                head["latest_version"],
                head["created_at_ms"],
                self._labels(conn, name),
            )

    def list(self, project: str | None = None) -> builtins.list[PipelineInfo]:
        """The tenant's published pipelines by name (of one project if given)."""
        stmt = select(PL).where(PL.c.tenant_id == self.tenant_id).order_by(PL.c.name)
        if project is not None:
            stmt = stmt.where(PL.c.project == project)
        with self.store.read() as conn:
            return [
                PipelineInfo(
                    r["name"],
                    r["project"],
                    r["latest_version"],
                    r["created_at_ms"],
                    self._labels(conn, r["name"]),
                )
                for r in conn.execute(stmt).mappings().all()
            ]

    def commits(self, name: str) -> builtins.list[PipelineCommit]:
        """Every commit of the pipeline, newest first.

        Raises:
            NotFound: no such pipeline.
        """
        with self.store.read() as conn:
            if self._head(conn, name) is None:
                raise errors.NotFound("pipeline", name)
            labels = self._labels(conn, name)
            rows = conn.execute(
                select(C)
                .where(C.c.tenant_id == self.tenant_id, C.c.pipeline_name == name)
                .order_by(C.c.version.desc())
            ).mappings()
            return [_commit(r, labels) for r in rows]

    def commit(
        self, name: str, version: int | None = None, label: str | None = None
    ) -> PipelineCommit:
        """One commit: by version, by label, or the latest.

        Raises:
            NotFound: no such pipeline, commit or label (named).
        """
        with self.store.read() as conn:
            labels = self._labels(conn, name)
            return _commit(
                self._commit_row(conn, name, self._version(conn, name, version, label)), labels
            )

    def blob(self, name: str, version: int) -> str:
        """The pickled pipeline of a commit.

        Raises:
            NotFound: no such pipeline or commit.
        """
        with self.store.read() as conn:
            return str(self._commit_row(conn, name, version)["pipeline"])

    def resolve(self, name: str, version: int | None = None, label: str | None = None) -> int:
        """The version ``version`` or ``label`` names (the latest when neither).

        Raises:
            NotFound: no such pipeline, commit or label.
        """
        with self.store.read() as conn:
            resolved = self._version(conn, name, version, label)
            self._commit_row(conn, name, resolved)
            return resolved

    def _version(self, conn: Connection, name: str, version: int | None, label: str | None) -> int:
        head = self._head(conn, name)
        if head is None:
            raise errors.NotFound("pipeline", name)
        if label is not None:
            found = self._labels(conn, name).get(label)
            if found is None:
                raise errors.NotFound("pipeline label", f"{name}@{label}")
            return found
        if version is None:
            return int(head["latest_version"])
        return version

    def count(self, name: str) -> int:
        """How many commits the pipeline has (0 if it does not exist)."""
        with self.store.read() as conn:
            return int(
                conn.execute(
                    select(func.count())
                    .select_from(C)
                    .where(C.c.tenant_id == self.tenant_id, C.c.pipeline_name == name)
                ).scalar_one()
            )


def _commit(row: RowMapping, labels: dict[str, int]) -> PipelineCommit:
    return PipelineCommit(
        pipeline_name=row["pipeline_name"],
        version=row["version"],
        message=row["message"],
        user_id=str(row["user_id"]),
        created_at_ms=row["created_at_ms"],
        dag=json.loads(row["dag"]),
        labels=tuple(sorted(k for k, v in labels.items() if v == row["version"])),
    )
