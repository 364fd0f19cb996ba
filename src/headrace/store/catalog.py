"""Job groups and job types as stored (seed 004 ``job_groups``, ``job_types``)."""

from __future__ import annotations

from dataclasses import asdict

from sqlalchemy import RowMapping, func, select

from headrace.model import labels
from headrace.model.job import JobGroupInfo, JobTypeInfo
from headrace.store import codec, tables
from headrace.store.database import Store

G = tables.job_groups
T = tables.job_types


def type_from_row(r: RowMapping) -> JobTypeInfo:
    """A ``JobTypeInfo`` from a ``job_types`` row."""
    return JobTypeInfo(
        type_id=r["type_id"],
        group_name=r["group_name"],
        name=r["name"],
        description=r["description"],
        queue=r["queue"],
        timeout_sec=r["timeout_sec"],
        max_retries=r["max_retries"],
        retry_delay_sec=r["retry_delay_sec"],
        suspendable=bool(r["suspendable"]),
        params_schema=codec.loads(r["params_schema"]),
        labels=labels.decode(r["labels"]),
    )


class CatalogRepository:
    """Reads and writes job groups and job types."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def save(self, group: JobGroupInfo, job_type: JobTypeInfo | None = None) -> None:
        """Insert or update a group and (optionally) one of its types."""
        with self.store.write() as conn:
            conn.execute(self.store.dialect.upsert(G, ["name"], asdict(group)))
            if job_type is not None:
                row = asdict(job_type)
                row["params_schema"] = codec.dumps(job_type.params_schema, "params")
                row["labels"] = labels.encode(job_type.labels)
                conn.execute(self.store.dialect.upsert(T, ["type_id"], row))

    def get_type(self, type_id: str) -> JobTypeInfo | None:
        """A job type by id."""
        with self.store.read() as conn:
            row = conn.execute(select(T).where(T.c.type_id == type_id)).mappings().first()
        return None if row is None else type_from_row(row)

    def list_types(self, page: int, limit: int) -> tuple[list[JobTypeInfo], int]:
        """A page of job types by id, and how many there are."""
        with self.store.read() as conn:
            total = conn.execute(select(func.count()).select_from(T)).scalar_one()
            rows = conn.execute(
                select(T).order_by(T.c.type_id).limit(limit).offset((page - 1) * limit)
            ).mappings()
            return [type_from_row(r) for r in rows], total

    def get_group(self, name: str) -> JobGroupInfo | None:
        """A job group by name."""
        with self.store.read() as conn:
            row = conn.execute(select(G).where(G.c.name == name)).mappings().first()
        return (
            None
            if row is None
            else JobGroupInfo(row["name"], row["queue_name"], row["description"])
        )

    def list_groups(self, page: int, limit: int) -> tuple[list[JobGroupInfo], int]:
        """A page of job groups by name, and how many there are."""
        with self.store.read() as conn:
            total = conn.execute(select(func.count()).select_from(G)).scalar_one()
            rows = conn.execute(
                select(G).order_by(G.c.name).limit(limit).offset((page - 1) * limit)
            ).mappings()
            return [JobGroupInfo(r["name"], r["queue_name"], r["description"]) for r in rows], total
