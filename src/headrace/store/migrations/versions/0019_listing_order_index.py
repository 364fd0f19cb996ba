"""the listing index ends in job_id: a page of newest jobs reads a page, whatever the ties

Listings order a tenant's jobs by ``scheduled_at_ms`` and then ``job_id`` (a total order,
so pages neither repeat nor skip a job). ``ix_jobs_tenant_scheduled`` held
``(tenant_id, scheduled_at_ms)`` only, so every job sharing the newest millisecond was read
and sorted by id before the first page could be cut: a ``schedule_many`` of 20,000 jobs,
which stamps them all with one time, made the default page take 20 ms instead of 1.7 on
SQLite. With ``job_id`` in the index a page is a walk of its entries on both databases.

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-07 10:10:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0019"
down_revision: str | None = "0018"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

NAME = "ix_jobs_tenant_scheduled"


def upgrade() -> None:
    op.drop_index(NAME, table_name="jobs")
    op.create_index(NAME, "jobs", ["tenant_id", "scheduled_at_ms", "job_id"])


def downgrade() -> None:
    op.drop_index(NAME, table_name="jobs")
    op.create_index(NAME, "jobs", ["tenant_id", "scheduled_at_ms"])
