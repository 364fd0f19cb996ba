"""names held by runs: a job that was never started no longer holds its name

Control Hub's jobs are found by id and share names freely (seed 002 defines two jobs
called ``job name``); Jet refuses a second active job of a name. So a name is held by a
job from its first start until its run ends: ``ux_jobs_active_name`` leaves out
``created`` jobs as it leaves out ended ones.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-05 19:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

#: ``headrace.store.tables.ACTIVE_NAME`` (a test compares them).
ACTIVE_NAME = (
    "name IS NOT NULL AND status NOT IN "
    "('completed', 'failed', 'canceled', 'timeout', 'skipped', 'created')"
)
#: What 0004 made it.
BEFORE = (
    "name IS NOT NULL AND status NOT IN ('completed', 'failed', 'canceled', 'timeout', 'skipped')"
)


def _index(where: str) -> None:
    op.create_index(
        "ux_jobs_active_name",
        "jobs",
        ["tenant_id", "name"],
        unique=True,
        sqlite_where=sa.text(where),
        postgresql_where=sa.text(where),
    )


def upgrade() -> None:
    op.drop_index("ux_jobs_active_name", table_name="jobs")
    _index(ACTIVE_NAME)


def downgrade() -> None:
    op.drop_index("ux_jobs_active_name", table_name="jobs")
    _index(BEFORE)
