"""``ux_jobs_active_name``: never-started jobs share a name, started ones cannot."""

from __future__ import annotations

import pytest
from sqlalchemy import update

from headrace import Client, errors
from headrace.jet.pipeline import Pipeline
from headrace.store import runs, tables


def test_the_index_lets_definitions_share_a_name_and_refuses_two_runs_of_it(
    store_url: str,
) -> None:
    client = Client(store_url, run_workers=False)
    try:
        p = Pipeline.create()
        p.read_from(Pipeline.from_list("nums")).write_to(Pipeline.to_list("out"))
        client.pipelines.publish(p, "copy")
        first = client.jobs.create("same", pipeline="copy")
        second = client.jobs.create("same", pipeline="copy")  # the index lets them share it
        store = client.store
        J = tables.jobs
        with store.write() as conn:
            conn.execute(update(J).where(J.c.job_id == first.job_id).values(status="running"))
        # What a start that lost the race to ``first`` meets: the index refuses, and the
        # store's error becomes the one the check before it gives.
        with pytest.raises(errors.JobAlreadyExists), runs._names_held(), store.write() as conn:
            conn.execute(update(J).where(J.c.job_id == second.job_id).values(status="waiting"))
        assert client.jobs.get(second.job_id).status.value == "created"
    finally:
        client.close()
