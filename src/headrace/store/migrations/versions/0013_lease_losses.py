"""lease losses counted apart from retries; tokens that expire and record their last use

The reaper counted a job whose worker died as a retry, so a ``max_retries=0`` job lived
through a worker crash only by a special case. ``jobs.lease_losses`` counts lost leases
with a limit of their own (``defaults.LEASE_LOSSES_ALLOWED``); ``retries`` counts the
job's own failures only. ``api_tokens.expires_at_ms`` (NULL: never) and
``last_used_at_ms`` (NULL: never used) back ``headrace tokens create --expires-in`` and
``headrace tokens ls``.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-05 19:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # A constant default: a plain ADD COLUMN on both databases, no table rebuild.
    op.add_column(
        "jobs",
        sa.Column("lease_losses", sa.Integer(), server_default="0", nullable=False),
    )
    op.add_column("api_tokens", sa.Column("expires_at_ms", sa.BigInteger(), nullable=True))
    op.add_column("api_tokens", sa.Column("last_used_at_ms", sa.BigInteger(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("api_tokens") as batch:
        batch.drop_column("last_used_at_ms")
        batch.drop_column("expires_at_ms")
    with op.batch_alter_table("jobs") as batch:
        batch.drop_column("lease_losses")
