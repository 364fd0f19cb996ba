"""Migration 0013 adds ``jobs.lease_losses`` and the tokens' expiry and last use to a store
filled by the previous head (0012), keeping its jobs (0 leases lost) and tokens (live,
never expiring); its downgrade takes the columns away again."""

from __future__ import annotations

import sqlalchemy
from alembic_steps import alembic_step

from headrace import Client
from headrace.service.tokens import TokenService
from headrace.store.database import Store


def _columns(store: Store, table: str) -> set[str]:
    with store.read() as conn:
        return {c["name"] for c in sqlalchemy.inspect(conn).get_columns(table)}


def test_upgrading_from_0012_keeps_jobs_and_tokens(store_url: str) -> None:
    with Client(store_url, run_workers=False) as client:
        client.job_type("mig.echo")(lambda ctx, params: params)
        job = client.jobs.schedule("mig.echo", {"n": 1})
        token, _ = TokenService(client.store).create("acme", "ann", "viewer")
    store = Store(store_url)
    alembic_step(store, "downgrade", "0012")  # the previous head, as a store deployed today
    assert "lease_losses" not in _columns(store, "jobs")
    assert not {"expires_at_ms", "last_used_at_ms"} & _columns(store, "api_tokens")
    store.close()

    with Client(store_url, run_workers=False) as client:  # migrates to head
        kept = client.jobs.get(job.job_id)
        assert kept.lease_losses == 0 and kept.params == {"n": 1}
        tokens = TokenService(client.store)
        assert tokens.authenticate(token).user_name == "ann"
        (record,) = tokens.list("acme")
        assert record.expires_at_ms is None and record.last_used_at_ms is not None
