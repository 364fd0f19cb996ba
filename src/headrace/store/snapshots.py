"""Pipeline snapshots and run records: fenced, atomic commits of state with output."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, delete, func, insert, select, update

from headrace import errors
from headrace.model import status as machine
from headrace.model.clock import now_ms
from headrace.model.job import SnapshotInfo
from headrace.store import tables
from headrace.store.data import DataRepository
from headrace.store.database import Store

J, SN, R = tables.jobs, tables.snapshots, tables.job_runs
HELD = [str(s) for s in machine.HELD]
#: Snapshots of a job kept besides exported ones (the newest is the one that counts).
KEEP = 2


@dataclass(frozen=True, slots=True)
class Fence:
    """The attempt a commit speaks for: refused once another attempt holds the job."""

    job_id: str
    attempt: int
    worker_id: str
    #: The attempt's lease: a commit renews it as it ends (None: leaves it as it is).
    lease_sec: float | None = None


@dataclass(frozen=True, slots=True)
class Output:
    """Buffered sink output to commit with a snapshot: encoded values of a List, Map or Stream."""

    kind: str
    name: str
    values: Sequence[Any]


class SnapshotRepository:
    """One tenant's snapshots and runs."""

    def __init__(self, store: Store, tenant_id: str) -> None:
        self.store = store
        self.tenant_id = tenant_id
        self.data = DataRepository(store, tenant_id)

    def commit(
        self,
        fence: Fence,
        run_count: int,
        state: bytes,
        outputs: Sequence[Output],
        names: Sequence[str] = (),
    ) -> None:
        """Write outputs, the snapshot and its exported names in one transaction.

        Outputs are written in bulk (``DataRepository``), and the commit renews the
        attempt's lease as it ends (``Fence.lease_sec``), so its size never costs the job
        its lease.

        Raises:
            Conflict: the attempt no longer holds the job (its lease was lost): nothing
                is written, so a zombie worker can never duplicate output.
        """
        with self.store.write() as conn:
            self._check_fence(conn, fence)
            for out in outputs:
                self._write(conn, out)
            at = now_ms()
            row = {
                "tenant_id": self.tenant_id,
                "job_id": fence.job_id,
                "run_count": run_count,
                "created_at_ms": at,
                "state": state,
            }
            conn.execute(insert(SN).values({**row, "name": None}))
            for name in names:
                conn.execute(delete(SN).where(SN.c.tenant_id == self.tenant_id, SN.c.name == name))
                conn.execute(insert(SN).values({**row, "name": name}))
            if names:
                self._clear_exports(conn, fence.job_id, names)
            self._prune(conn, fence.job_id)
            if fence.lease_sec is not None:
                # The row is this transaction's (the fence locked it, or SQLite's write
                # lock holds everything): heartbeats skip or wait for it, so the commit
                # renews the lease it may have outlasted, as it ends.
                conn.execute(
                    update(J)
                    .where(J.c.job_id == fence.job_id, J.c.attempt == fence.attempt)
                    .values(lease_expires_ms=now_ms() + int(fence.lease_sec * 1000))
                )

    def _check_fence(self, conn: Connection, fence: Fence) -> None:
        stmt = select(J.c.job_id).where(
            J.c.job_id == fence.job_id,
            J.c.attempt == fence.attempt,
            J.c.locked_by == fence.worker_id,
            J.c.status.in_(HELD),
        )
        if self.store.is_postgresql:
            stmt = stmt.with_for_update()
        if conn.execute(stmt).first() is None:
            msg = f"job {fence.job_id} attempt {fence.attempt}: lease lost, snapshot refused"
            raise errors.Conflict(msg)

    def _write(self, conn: Connection, out: Output) -> None:
        if out.kind == "list":
            self.data.list_extend(conn, out.name, list(out.values))
        elif out.kind == "map":
            self.data.map_put_all(conn, out.name, list(out.values))
        elif out.kind == "stream":
            count = self.data.stream_create(conn, out.name, None)
            end = self.data.stream_end_offsets(conn, out.name)
            start = sum(end.values())
            rows = [((start + i) % count, None, v) for i, v in enumerate(out.values)]
            self.data.stream_append(conn, out.name, rows)
        else:  # pragma: no cover - the engine only produces these three
            msg = f"unknown output kind {out.kind!r}"
            msg_0 = "kind"
            raise errors.InvalidInput(msg_0, msg)

    def _clear_exports(self, conn: Connection, job_id: str, names: Sequence[str]) -> None:
        current = conn.execute(select(J.c.control).where(J.c.job_id == job_id)).scalar()
        control = json.loads(current) if current else {}
        left = [n for n in control.get("export", []) if n not in names]
        if left:
            control["export"] = left
        else:
            control.pop("export", None)
        conn.execute(
            update(J)
            .where(J.c.job_id == job_id)
            .values(control=json.dumps(control) if control else None)
        )

    def _prune(self, conn: Connection, job_id: str) -> None:
        keep = (
            select(SN.c.snapshot_id)
            .where(SN.c.job_id == job_id, SN.c.name.is_(None))
            .order_by(SN.c.snapshot_id.desc())
            .limit(KEEP)
        )
        kept = [r[0] for r in conn.execute(keep)]
        conn.execute(
            delete(SN).where(
                SN.c.job_id == job_id, SN.c.name.is_(None), SN.c.snapshot_id.not_in(kept)
            )
        )

    def latest(self, job_id: str, run_count: int | None = None) -> bytes | None:
        """The job's newest snapshot (of run ``run_count`` if given), or None."""
        stmt = select(SN.c.state).where(
            SN.c.tenant_id == self.tenant_id, SN.c.job_id == job_id, SN.c.name.is_(None)
        )
        if run_count is not None:
            stmt = stmt.where(SN.c.run_count == run_count)
        with self.store.read() as conn:
            found = conn.execute(stmt.order_by(SN.c.snapshot_id.desc()).limit(1)).scalar()
        return None if found is None else bytes(found)

    def exported(self, name: str) -> tuple[bytes, int] | None:
        """An exported snapshot's state and creation time, or None."""
        with self.store.read() as conn:
            found = conn.execute(
                select(SN.c.state, SN.c.created_at_ms).where(
                    SN.c.tenant_id == self.tenant_id, SN.c.name == name
                )
            ).first()
        return None if found is None else (bytes(found[0]), int(found[1]))

    def list_exported(self) -> list[SnapshotInfo]:
        """The tenant's exported snapshots, by name."""
        stmt = (
            select(
                SN.c.name, SN.c.job_id, SN.c.run_count, SN.c.created_at_ms, func.length(SN.c.state)
            )
            .where(SN.c.tenant_id == self.tenant_id, SN.c.name.is_not(None))
            .order_by(SN.c.name)
        )
        with self.store.read() as conn:
            return [
                SnapshotInfo(
                    name=str(name),
                    job_id=None if job_id is None else str(job_id),
                    run_count=int(run_count),
                    created_at_ms=int(created),
                    size_bytes=int(size or 0),
                )
                for name, job_id, run_count, created, size in conn.execute(stmt)
            ]

    def delete_exported(self, name: str) -> bool:
        """Delete the tenant's exported snapshot ``name``; False if there was none."""
        with self.store.write() as conn:
            done = conn.execute(
                delete(SN).where(SN.c.tenant_id == self.tenant_id, SN.c.name == name)
            ).rowcount
        return bool(done)

    def export_latest(self, job_id: str, name: str) -> bool:
        """Store the job's newest snapshot under ``name`` (replacing it); False if none."""
        with self.store.write() as conn:
            found = conn.execute(
                select(SN.c.state, SN.c.run_count)
                .where(SN.c.tenant_id == self.tenant_id, SN.c.job_id == job_id, SN.c.name.is_(None))
                .order_by(SN.c.snapshot_id.desc())
                .limit(1)
            ).first()
            if found is None:
                return False
            conn.execute(delete(SN).where(SN.c.tenant_id == self.tenant_id, SN.c.name == name))
            conn.execute(
                insert(SN).values(
                    tenant_id=self.tenant_id,
                    job_id=job_id,
                    run_count=found[1],
                    name=name,
                    created_at_ms=now_ms(),
                    state=found[0],
                )
            )
        return True

    # -- runs -----------------------------------------------------------------------

    def record_run(
        self,
        job_id: str,
        run_count: int,
        status: str,
        metrics: dict[str, Any] | None,
        error: str | None = None,
        *,
        final: bool = False,
    ) -> None:
        """Create or update a run's record (its metrics survive the run)."""
        at = now_ms()
        row = {
            "job_id": job_id,
            "run_count": run_count,
            "tenant_id": self.tenant_id,
            "status": status,
            "started_at_ms": at,
            "updated_at_ms": at,
            "finished_at_ms": at if final else None,
            "metrics": None if metrics is None else json.dumps(metrics),
            "error": error,
        }
        with self.store.write() as conn:
            exists = conn.execute(
                select(R.c.started_at_ms).where(R.c.job_id == job_id, R.c.run_count == run_count)
            ).first()
            if exists is None:
                conn.execute(insert(R).values(row))
            else:
                row.pop("started_at_ms")
                current = conn.execute(select(J.c.run_count).where(J.c.job_id == job_id)).scalar()
                if current is not None and current > run_count:
                    # A later run has started (a forced stop ends a run before its worker
                    # notices): the worker's last word adds its metrics and leaves the
                    # record the start closed (status, end, error) as it is.
                    for kept in ("status", "finished_at_ms", "error"):
                        row.pop(kept)
                conn.execute(
                    update(R).where(R.c.job_id == job_id, R.c.run_count == run_count).values(row)
                )

    def runs(self, job_id: str) -> list[dict[str, Any]]:
        """The job's runs, oldest first, with their metrics."""
        with self.store.read() as conn:
            rows = conn.execute(
                select(R)
                .where(R.c.tenant_id == self.tenant_id, R.c.job_id == job_id)
                .order_by(R.c.run_count)
            ).mappings()
            return [
                {**dict(r), "job_id": str(r["job_id"]), "tenant_id": str(r["tenant_id"]),
                 "metrics": json.loads(r["metrics"]) if r["metrics"] else None}
                for r in rows
            ]  # fmt: skip
