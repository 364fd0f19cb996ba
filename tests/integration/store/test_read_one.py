"""``Store.read_one``: a one-statement read, in autocommit on PostgreSQL.

It must answer like ``read``, and hand its pooled connection back as it found it: a
write transaction that later gets the same connection still commits or rolls back as a
whole.
"""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from headrace import errors
from headrace.model import ids
from headrace.scheduler.registry import Registry
from headrace.service.jobs import JobService, Scope
from headrace.store import tables
from headrace.store.database import Store


def test_read_one_answers_like_read_and_leaves_writes_transactional(store_url: str) -> None:
    store = Store(store_url)
    try:
        registry = Registry()
        registry.decorator("unit.echo")(lambda ctx, params: params)
        jobs = JobService(store, registry, Scope())
        job = jobs.schedule("unit.echo", {"x": 1})
        assert jobs.repo.get(jobs.scope.tenant_id, job.job_id) == jobs.get(job.job_id)
        count = select(func.count()).select_from(tables.jobs)
        with store.read_one() as conn:
            driver = conn.connection.dbapi_connection
            autocommit = getattr(driver, "autocommit", None) is True  # psycopg's flag
            assert conn.execute(count).scalar() == 1
        assert autocommit is store.is_postgresql
        for _ in range(3):  # every pooled connection back out of autocommit
            with pytest.raises(errors.StoreError), store.write() as conn:
                conn.execute(tables.jobs.delete())
                conn.execute(tables.jobs.insert().values(job_id=ids.new_id()))  # NOT NULLs
            with store.read() as conn:
                assert conn.execute(count).scalar() == 1
                assert getattr(conn.connection.dbapi_connection, "autocommit", None) is not True
    finally:
        store.close()
