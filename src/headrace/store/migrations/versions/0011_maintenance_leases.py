"""maintenance leases: the reaper's role is a lease that lapses, not an advisory lock

The reaper ran inside a transaction holding ``pg_try_advisory_xact_lock``: a process
frozen in it stopped reaping cluster-wide. The role is now a row naming its holder and
until when it holds it; another process takes it over once it has lapsed.

Revision ID: 0011
Revises: 0007
Create Date: 2026-12-05 16:20:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "maintenance_leases",
        sa.Column("role", sa.String(length=64), nullable=False),
        sa.Column("holder", sa.String(length=255), nullable=False),
        sa.Column("expires_ms", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("role"),
    )


def downgrade() -> None:
    op.drop_table("maintenance_leases")
