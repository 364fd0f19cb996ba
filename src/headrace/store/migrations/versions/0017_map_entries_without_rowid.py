"""Map entries without rowid on SQLite: each row is written once, in its key's B-tree

``data_map_entries`` was a rowid table with its primary key ``(tenant_id, name, key)`` as a
separate index, so each entry went into two B-trees and the 32-character tenant id, the
name and the key were kept twice. A ``WITHOUT ROWID`` table is the key's B-tree itself:
about half the pages to write (the file of 500,000 entries: 43 MB instead of 80), and
about an eighth less CPU for a ``put_rows`` of 50,000 entries (170 -> 150 ms; the engine's
Map sink writes through the same upsert). Entries still come back in key order within a
Map. PostgreSQL has no rowid tables: nothing changes there.

SQLite cannot alter that property: the table is made anew, the rows copied, the old one
dropped. The downgrade does the same the other way.

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-06 16:20:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0017"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLE = "data_map_entries"


def _rebuild(with_rowid: bool) -> None:
    """Makes ``data_map_entries`` anew on SQLite, with or without rowid, keeping its rows."""
    if op.get_bind().dialect.name != "sqlite":
        return
    staged = f"{TABLE}_rebuilt"
    op.create_table(
        staged,
        sa.Column("tenant_id", sa.Uuid(as_uuid=False), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("key", sa.LargeBinary(), nullable=False),
        sa.Column("value", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("tenant_id", "name", "key"),
        sqlite_with_rowid=with_rowid,
    )
    op.execute(
        f"INSERT INTO {staged} (tenant_id, name, key, value) "
        f"SELECT tenant_id, name, key, value FROM {TABLE} ORDER BY tenant_id, name, key"
    )
    op.drop_table(TABLE)
    op.rename_table(staged, TABLE)


def upgrade() -> None:
    _rebuild(with_rowid=False)


def downgrade() -> None:
    _rebuild(with_rowid=True)
