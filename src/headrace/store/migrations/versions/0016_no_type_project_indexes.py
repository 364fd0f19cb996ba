"""no type or project listing indexes: two fewer index entries per status change of a job

A status change rewrites the ``jobs`` row, and on PostgreSQL the new row version adds an
entry to every full index of the table (no status change can be a HOT update: the status
is indexed), so each full index costs every claim and every finish. ``(tenant_id, type)``
and ``(tenant_id, project)`` served only listings filtered by type or project; those now
read the tenant's jobs newest first through ``ix_jobs_tenant_scheduled`` (the order they
list in) and filter. PostgreSQL's CPU per job of a hand loop writing Headrace's rows at
batch 8 went from 126 to 98-110 us with these and the status index dropped
(``bench/pgloop_variants.py``); the status index stays, for counts and listings by status.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-06 05:50:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

#: The indexes dropped, and their columns (the downgrade makes them again).
DROPPED = {
    "ix_jobs_tenant_type": ["tenant_id", "type"],
    "ix_jobs_tenant_project": ["tenant_id", "project"],
}


def upgrade() -> None:
    for name in DROPPED:
        op.drop_index(name, table_name="jobs")


def downgrade() -> None:
    for name, columns in DROPPED.items():
        op.create_index(name, "jobs", columns)
