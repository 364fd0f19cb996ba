"""worker labels: the labels a worker offers, and the labels a job or job type requires

``workers.labels`` lists what a worker offers (``headrace worker --labels gpu,eu``);
``jobs.labels`` and ``job_types.labels`` what a job needs, stored comma-framed and sorted
(``,eu,gpu,``) so the claim tests a worker's labels with ``replace``, on both databases.
NULL: no labels (every existing row), which every worker may take.
``jobs.placed_on`` / ``placed_until_ms``: the worker that balancing moves a job to; until
then only it claims the job (after, any worker: a placement never strands a job).

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-05 19:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Plain ADD COLUMN on both databases: nullable, no default, no table rebuild.
    op.add_column("jobs", sa.Column("labels", sa.Text(), nullable=True))
    op.add_column("jobs", sa.Column("placed_on", sa.Uuid(as_uuid=False), nullable=True))
    op.add_column("jobs", sa.Column("placed_until_ms", sa.BigInteger(), nullable=True))
    op.add_column("job_types", sa.Column("labels", sa.Text(), nullable=True))
    op.add_column("workers", sa.Column("labels", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("jobs") as batch:
        batch.drop_column("placed_until_ms")
        batch.drop_column("placed_on")
    for table in ("workers", "job_types", "jobs"):
        with op.batch_alter_table(table) as batch:
            batch.drop_column("labels")
