"""The status listing index ends in ``scheduled_at_ms``: a page of one status reads its end

Listings of one status, newest first (``GET /jobs?status=completed``, the dashboard's
status filters, ``jobs.list(status=...)``) read every job of that status through
``(tenant_id, status)`` and sorted them all to return one page: 58-70 ms a page at 60,000
completed jobs on PostgreSQL, however small the page. With ``scheduled_at_ms`` last the
index hands them over in order and the page stops at its limit (0.2 ms at 60,000). A
status change still adds one entry to one index, as before; counts by status still read
its prefix.

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-07 06:20:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0018"
down_revision: str | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

#: The index made (name, columns) and the one it replaces.
MADE = ("ix_jobs_tenant_status_scheduled", ["tenant_id", "status", "scheduled_at_ms"])
REPLACED = ("ix_jobs_tenant_status", ["tenant_id", "status"])


def upgrade() -> None:
    op.create_index(MADE[0], "jobs", MADE[1])
    op.drop_index(REPLACED[0], table_name="jobs")


def downgrade() -> None:
    op.create_index(REPLACED[0], "jobs", REPLACED[1])
    op.drop_index(MADE[0], table_name="jobs")
