"""job origin and worker types: whose script a job came from, and what each worker runs

``jobs.origin`` names the embedded process (script) that scheduled a job, NULL for jobs
scheduled through a server or the CLI: an embedded client's workers take only their own
process's jobs unless asked to resume others (``Client(resume_jobs=True)``), so a
streaming job a script left running does not come back inside the next script.
``workers.types`` lists the job types a worker runs (JSON), so a waiting job whose type
no live worker knows says so in its status reason.

Revision ID: 0009
Revises: 0007
Create Date: 2026-12-05 16:05:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Plain ADD COLUMN on both databases: nullable, no default, no table rebuild.
    op.add_column("jobs", sa.Column("origin", sa.String(length=64), nullable=True))
    op.add_column("workers", sa.Column("types", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("workers") as batch:
        batch.drop_column("types")
    with op.batch_alter_table("jobs") as batch:
        batch.drop_column("origin")
