"""The store: SQLAlchemy 2 tables, repositories and migrations for SQLite and PostgreSQL."""
