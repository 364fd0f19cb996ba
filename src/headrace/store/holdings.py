"""What a worker holds now, read in one query: its control poll (and refused writes' fix-ups)."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import Select, select

from headrace.model.status import Status
from headrace.store import tables
from headrace.store.database import Store
from headrace.store.predicates import IS_HELD

J = tables.jobs


class Holdings:
    """The jobs ``worker_id`` holds, by the rows of ``ix_jobs_held`` that name it."""

    store: Store
    worker_id: str

    def held(self) -> dict[str, tuple[int, Status]]:
        """The jobs this worker holds now: job id -> (attempt, status)."""
        return {k: (v[0], v[1]) for k, v in self.holdings().items()}

    def holdings(self) -> dict[str, tuple[int, Status, dict[str, Any] | None]]:
        """The jobs this worker holds now with their control requests (restart, exports).

        Job id -> (attempt, status, control or None): the worker's control poll, one read.
        """
        with self.store.read_one() as conn:
            rows = conn.execute(self.held_query()).all()
        return {
            str(r[0]): (r[1], Status(r[2]), None if r[3] is None else json.loads(r[3]))
            for r in rows
        }

    def held_query(self) -> Select[Any]:
        """What ``holdings`` runs: the rows of ``ix_jobs_held`` that name this worker."""
        return select(J.c.job_id, J.c.attempt, J.c.status, J.c.control).where(
            J.c.locked_by == self.worker_id, IS_HELD
        )
