"""Alembic environment: runs on the connection the Store hands over."""

from alembic import context

from headrace.store import tables

connection = context.config.attributes.get("connection")
if connection is None:
    msg = "run migrations through headrace.store.database.Store.migrate()"
    raise RuntimeError(msg)
context.configure(
    connection=connection,
    target_metadata=tables.metadata,
    render_as_batch=connection.dialect.name == "sqlite",
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
