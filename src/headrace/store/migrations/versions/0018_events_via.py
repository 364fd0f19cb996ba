"""One event row per status write: ``job_events.via``

A write whose status path passes through statuses (a worker's no-op job: ``locked ->
running -> completed`` in one fenced write) was stored as one row per step, rows that
differ only in their statuses. It is now one row: ``from_status`` the path's first status,
``to_status`` its last, ``via`` the statuses between, comma-separated in order
(``running``). NULL (every existing row, and every change of one step): nothing between.
Readers expand a row into one event per step, so the events read are those of before.

The downgrade drops the column: a row written with ``via`` then reads as its first and
last status only (the steps between are not recreated: new rows would take ids after
every later event of the job, and the runs' event bounds are ids).

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-07 09:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0018"
down_revision: str | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Plain ADD COLUMN on both databases: nullable, no default, no table rebuild.
    op.add_column("job_events", sa.Column("via", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("job_events") as batch:
        batch.drop_column("via")
