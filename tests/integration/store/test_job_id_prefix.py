"""Finding a job by the first digits of its id: a key range, answered from the key's index."""

from __future__ import annotations

import uuid

from headrace.store.database import Store
from headrace.store.jobs import JobRepository

TENANT = str(uuid.UUID(int=0))


def test_the_prefix_query_is_a_range_on_the_primary_key(store_url: str) -> None:
    store = Store(store_url)
    try:
        query = JobRepository(store).prefix_query(TENANT, "01a246eb")
        with store.read() as conn:
            sql = str(query.compile(dialect=conn.dialect, compile_kwargs={"literal_binds": True}))
            if store.is_postgresql:
                plan = " ".join(r[0] for r in conn.exec_driver_sql(f"EXPLAIN {sql}"))
                assert "Index Scan using jobs_pkey" in plan, plan
                assert "job_id >= '01a246eb-0000-0000-0000-000000000000'::uuid" in plan
            else:
                rows = conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {sql}").all()
                plan = " ".join(str(r[-1]) for r in rows)
                assert "USING INDEX sqlite_autoindex_jobs_1 (job_id>? AND job_id<?)" in plan, plan
                assert "TEMP B-TREE" not in plan  # the key's order is the order asked for
    finally:
        store.close()
