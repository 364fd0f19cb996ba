"""named jobs by tenant and name: finding a pipeline job by name no longer scans the tenant

``find_named`` (Jet's ``get_job(name)``, pipeline upgrades) looks a name up among all of a
tenant's jobs, ended ones included, which no index covered: ``ux_jobs_active_name`` holds
active jobs only. The new index is partial on ``name IS NOT NULL``, so unnamed jobs (the
queue's hot path) add no entry to it.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01 04:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

#: ``headrace.store.tables.NAMED`` (a test compares them).
NAMED = "name IS NOT NULL"


def upgrade() -> None:
    op.create_index(
        "ix_jobs_tenant_name",
        "jobs",
        ["tenant_id", "name", "scheduled_at_ms"],
        sqlite_where=sa.text(NAMED),
        postgresql_where=sa.text(NAMED),
    )


def downgrade() -> None:
    op.drop_index("ix_jobs_tenant_name", table_name="jobs")
