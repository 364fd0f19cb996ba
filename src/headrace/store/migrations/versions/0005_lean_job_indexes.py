"""lean job indexes: partial indexes per status, listing indexes per tenant

Every status change rewrites a ``jobs`` row and adds an entry to each index whose
predicate the new row meets; fourteen indexes made that most of the cost of claiming and
finishing a job. The indexes left serve the queries there are.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-24 14:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

HAS_KEY = "idempotency_key IS NOT NULL"
WAITING = "status = 'waiting'"
HELD = "status IN ('locked', 'running', 'canceling', 'suspending')"
RETRYING = "status = 'retrying'"

#: Single-column indexes of 0001 that no query needs any more.
DROPPED = (
    "eta_ms",
    "idempotency_key",
    "locked_by",
    "scheduled_at_ms",
    "started_at_ms",
    "status",
    "tenant_id",
    "type",
    "updated_at_ms",
    "user_id",
)


def _partial(name: str, columns: list[str], predicate: str, *, unique: bool = False) -> None:
    op.create_index(
        name,
        "jobs",
        columns,
        unique=unique,
        sqlite_where=sa.text(predicate),
        postgresql_where=sa.text(predicate),
    )


def upgrade() -> None:
    for column in DROPPED:
        op.drop_index(f"ix_jobs_{column}", table_name="jobs")
    op.drop_index("ix_jobs_claim", table_name="jobs")
    op.drop_index("ux_jobs_tenant_idempotency", table_name="jobs")
    _partial("ux_jobs_tenant_idempotency", ["tenant_id", "idempotency_key"], HAS_KEY, unique=True)
    _partial("ix_jobs_claim", ["queue", "eta_ms", "scheduled_at_ms"], WAITING)
    _partial("ix_jobs_held", ["locked_by"], HELD)
    _partial("ix_jobs_retrying", ["eta_ms"], RETRYING)
    op.create_index("ix_jobs_tenant_scheduled", "jobs", ["tenant_id", "scheduled_at_ms"])
    op.create_index("ix_jobs_tenant_status", "jobs", ["tenant_id", "status"])
    op.create_index("ix_jobs_tenant_type", "jobs", ["tenant_id", "type"])


def downgrade() -> None:
    for name in (
        "ix_jobs_tenant_type",
        "ix_jobs_tenant_status",
        "ix_jobs_tenant_scheduled",
        "ix_jobs_retrying",
        "ix_jobs_held",
        "ix_jobs_claim",
        "ux_jobs_tenant_idempotency",
    ):
        op.drop_index(name, table_name="jobs")
    op.create_index(
        "ux_jobs_tenant_idempotency", "jobs", ["tenant_id", "idempotency_key"], unique=True
    )
    op.create_index("ix_jobs_claim", "jobs", ["queue", "status", "eta_ms"])
    for column in DROPPED:
        op.create_index(f"ix_jobs_{column}", "jobs", [column])
