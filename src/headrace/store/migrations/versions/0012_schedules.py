"""schedules: cron schedules of jobs and their firings, one row per handled tick

The key ``(schedule_id, fire_ms)`` of ``schedule_firings`` is what lets any number of
processes race for a tick: the one whose insert lands fires it.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-05 19:20:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UUID = sa.Uuid(as_uuid=False)


def upgrade() -> None:
    op.create_table(
        "schedules",
        sa.Column("schedule_id", UUID, nullable=False),
        sa.Column("tenant_id", UUID, nullable=False),
        sa.Column("job_id", UUID, nullable=False),
        sa.Column("cron", sa.String(length=255), nullable=False),
        sa.Column("timezone", sa.String(length=64), nullable=False),
        sa.Column("action", sa.String(length=16), nullable=False),
        sa.Column("misfire", sa.String(length=16), nullable=False),
        sa.Column("paused", sa.Boolean(), nullable=False),
        sa.Column("next_fire_ms", sa.BigInteger(), nullable=True),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("user_id", UUID, nullable=False),
        sa.Column("created_at_ms", sa.BigInteger(), nullable=False),
        sa.Column("updated_at_ms", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("schedule_id"),
    )
    op.create_index("ix_schedules_tenant_id", "schedules", ["tenant_id"])
    op.create_index("ix_schedules_job_id", "schedules", ["job_id"])
    op.create_index("ix_schedules_due", "schedules", ["next_fire_ms"])
    op.create_table(
        "schedule_firings",
        sa.Column("schedule_id", UUID, nullable=False),
        sa.Column("fire_ms", sa.BigInteger(), nullable=False),
        sa.Column("tenant_id", UUID, nullable=False),
        sa.Column("fired_at_ms", sa.BigInteger(), nullable=False),
        sa.Column("outcome", sa.String(length=16), nullable=False),
        sa.Column("skipped", sa.Integer(), nullable=False),
        sa.Column("run_count", sa.Integer(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("holder", sa.String(length=255), nullable=False),
        sa.PrimaryKeyConstraint("schedule_id", "fire_ms"),
    )


def downgrade() -> None:
    op.drop_table("schedule_firings")
    op.drop_index("ix_schedules_due", table_name="schedules")
    op.drop_index("ix_schedules_job_id", table_name="schedules")
    op.drop_index("ix_schedules_tenant_id", table_name="schedules")
    op.drop_table("schedules")
