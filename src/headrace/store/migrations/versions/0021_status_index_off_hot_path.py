"""jobs by status off the worker's hot path: ix_jobs_tenant_status becomes partial

``ix_jobs_tenant_status (tenant_id, status)`` moved an entry at every status change: twice
a job on the worker's hot path (``waiting -> locked`` at a claim, ``locked -> completed``
at its end), about 2 µs a job inside SQLite's write lock. It is replaced by
``ix_jobs_tenant_rest``, the same columns over the statuses the hot path never writes
(every status but ``waiting``, ``completed``, the held ones and ``retrying``, which
``ix_jobs_retrying`` holds: a partial index of every ``retrying`` row was, on an empty
table, what PostgreSQL's generic plan of the retry release took). ``ix_jobs_claim`` gains
``tenant_id`` and ``status`` as trailing columns, so a tenant's waiting jobs are counted
from it alone (SQLite reads a predicate's column from the row); its entries never change
while in it. Counts by status read the partial indexes (waiting, held, retrying, the rest) and
take ``completed`` as the tenant's jobs minus the others (``predicates.count_by_status``),
counted in ``ix_jobs_tenant (tenant_id)``: a column no status change writes, so SQLite's
updates leave it be (PostgreSQL's updates of the status are never HOT, as index predicates
name it, and add an entry to every index: there it replaces the old index's cost). At 1M
jobs PostgreSQL counted a tenant's jobs in ``ix_jobs_tenant_scheduled`` in 120 ms, in
``ix_jobs_tenant`` in 52 (the old ``GROUP BY status``: 44).

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-08 00:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0021"
down_revision: str | None = "0020"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

WAITING = "status = 'waiting'"
REST = (
    "status <> 'waiting' AND status <> 'completed' AND status <> 'locked'"
    " AND status <> 'running' AND status <> 'canceling' AND status <> 'suspending'"
    " AND status <> 'retrying'"
)
CLAIM_BEFORE = ["queue", "eta_ms", "scheduled_at_ms"]
CLAIM_NOW = [*CLAIM_BEFORE, "tenant_id", "status"]


def _partial(name: str, where: str, columns: list[str]) -> None:
    op.create_index(
        name, "jobs", columns, sqlite_where=sa.text(where), postgresql_where=sa.text(where)
    )


def upgrade() -> None:
    op.drop_index("ix_jobs_tenant_status", table_name="jobs")
    op.drop_index("ix_jobs_claim", table_name="jobs")
    _partial("ix_jobs_claim", WAITING, CLAIM_NOW)
    _partial("ix_jobs_tenant_rest", REST, ["tenant_id", "status"])
    op.create_index("ix_jobs_tenant", "jobs", ["tenant_id"])


def downgrade() -> None:
    op.drop_index("ix_jobs_tenant", table_name="jobs")
    op.drop_index("ix_jobs_tenant_rest", table_name="jobs")
    op.drop_index("ix_jobs_claim", table_name="jobs")
    _partial("ix_jobs_claim", WAITING, CLAIM_BEFORE)
    op.create_index("ix_jobs_tenant_status", "jobs", ["tenant_id", "status"])
