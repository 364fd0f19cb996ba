"""The only place SQLite and PostgreSQL differ: one module per database, one shape."""
