"""wake workers from the database: a statement trigger notifies on every jobs INSERT

Scheduling a job used to send ``SELECT pg_notify(...)`` as a statement of its own, a
round trip per ``schedule`` call; the trigger notifies inside the INSERT instead. PostgreSQL
only (SQLite cannot notify; its workers poll).

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-24 15:20:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

#: ``headrace.defaults.NOTIFY_CHANNEL`` when this migration was written (a test compares).
CHANNEL = "headrace_jobs"


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(
        "CREATE FUNCTION headrace_notify_jobs() RETURNS trigger LANGUAGE plpgsql AS "
        f"$$ BEGIN PERFORM pg_notify('{CHANNEL}', ''); RETURN NULL; END $$"
    )
    op.execute(
        "CREATE TRIGGER jobs_notify_on_insert AFTER INSERT ON jobs "
        "FOR EACH STATEMENT EXECUTE FUNCTION headrace_notify_jobs()"
    )


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("DROP TRIGGER jobs_notify_on_insert ON jobs")
    op.execute("DROP FUNCTION headrace_notify_jobs()")
