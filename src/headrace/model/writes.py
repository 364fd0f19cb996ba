"""What a worker asks the store to record about an attempt it holds (fenced writes)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from headrace.model.status import Status


@dataclass(slots=True)
class AttemptWrite:
    """One fenced write: applies only while the job's attempt is still held by the writer.

    ``path`` is the status path the write walks, its first element the status the row must
    have now; an empty path means "no status change, any held status" (progress, state).
    """

    job_id: str
    tenant_id: str
    attempt: int
    path: tuple[Status, ...] = ()
    values: dict[str, Any] = field(default_factory=dict)
    reason: str | None = None

    def then(self, later: AttemptWrite) -> AttemptWrite:
        """This write followed by ``later`` on the same attempt, as one write."""
        if not self.path:
            path = later.path
        elif not later.path:
            path = self.path
        else:
            path = self.path + later.path[1:]
        return AttemptWrite(
            self.job_id,
            self.tenant_id,
            self.attempt,
            path,
            {**self.values, **later.values},
            later.reason or self.reason,
        )
