"""lease losses: a lost lease is counted apart from retries

The reaper counted a job whose worker died as a retry, so a ``max_retries=0`` job lived
through a worker crash only by a special case. ``jobs.lease_losses`` counts lost leases
with a limit of their own (``defaults.LEASE_LOSSES_ALLOWED``); ``retries`` counts the
job's own failures only.

Revision ID: 0016
Revises: 0011
Create Date: 2026-12-05 19:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0016"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # A constant default: a plain ADD COLUMN on both databases, no table rebuild.
    op.add_column(
        "jobs",
        sa.Column("lease_losses", sa.Integer(), server_default="0", nullable=False),
    )


def downgrade() -> None:
    with op.batch_alter_table("jobs") as batch:
        batch.drop_column("lease_losses")
