"""The claim statement of a worker and the shape of what it returns (``Claimed``)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import (
    BigInteger,
    ColumnElement,
    Integer,
    String,
    bindparam,
    literal_column,
    select,
    update,
)
from sqlalchemy.sql.dml import ReturningUpdate

from headrace.model.job import Claimed
from headrace.store import codec, tables
from headrace.store.dialects.base import Dialect
from headrace.store.predicates import AT, IS_WAITING, LOCKED

J = tables.jobs
#: What a claim returns about each job (in ``Claimed``'s order).
CLAIMED_COLUMNS = (
    J.c.job_id,
    J.c.tenant_id,
    J.c.type,
    J.c.queue,
    J.c.attempt,
    J.c.params,
    J.c.state,
    J.c.progress,
    J.c.timeout_sec,
    J.c.retries,
    J.c.max_retries,
    J.c.retry_delay_sec,
    J.c.resumed,
)
#: Where a claim row holds the attempt.
ATTEMPT = 4


def claim_update(
    dialect: Dialect,
    worker_id: str,
    origin_filter: tuple[ColumnElement[bool], ...],
    queue: str,
    types: tuple[str, ...],
    prefix: str = "",
) -> ReturningUpdate[Any]:
    """A worker's claim ``UPDATE … RETURNING`` for a queue and types (CTE named ``prefix``).

    It leases the earliest due waiting jobs (by ``eta_ms``, then ``scheduled_at_ms``), up to
    the bound ``p_limit``, to ``worker_id`` until ``p_lease_until``; ``origin_filter``
    narrows them (to one embedded process's jobs, to the worker's labels and placements).
    The chosen jobs are updated by key (``Dialect.row_key``, ``Dialect.among_chosen``).
    """
    key = dialect.row_key(J)
    candidates = (
        select(key.label("row_key"))
        .where(
            J.c.queue == queue,
            IS_WAITING,
            J.c.eta_ms <= AT,
            J.c.type.in_([literal_column(quoted(t), String) for t in types]),
            *origin_filter,
        )
        .order_by(J.c.eta_ms, J.c.scheduled_at_ms)
        .limit(bindparam("p_limit", type_=Integer))
        .with_for_update(skip_locked=True)
        # Materialized, so PostgreSQL evaluates it once: a plain IN (subquery) may be
        # rescanned, and with SKIP LOCKED a rescan can lock more than ``limit`` rows.
        .cte(f"{prefix}candidates")
        .prefix_with("MATERIALIZED", dialect="postgresql")
    )
    # No status test on the outer UPDATE: the CTE's row locks already hold the rows
    # it chose as waiting, and such a test lets the planner answer the join by
    # scanning the waiting jobs' partial index (every waiting job, each claim) rather
    # than looking the chosen ones up by key.
    return (
        update(J)
        .where(dialect.among_chosen(key, select(candidates.c.row_key)))
        .values(
            status=LOCKED,
            locked_by=worker_id,
            attempt=J.c.attempt + 1,
            lease_expires_ms=bindparam("p_lease_until", type_=BigInteger),
            updated_at_ms=AT,
            # A placement (``balance``) holds until the claim: the job is where it was sent.
            placed_on=None,
            placed_until_ms=None,
        )
        .returning(*CLAIMED_COLUMNS)
    )


def claimed_from(
    r: Sequence[Any], job_id: str | None = None, tenant_id: str | None = None
) -> Claimed:
    """A claimed job from a row of ``CLAIMED_COLUMNS`` (positional: once per job claimed).

    ``job_id`` and ``tenant_id``: the row's ids already read, where the caller reads them
    itself (``sqlite_round.claimed_rows``); else the row's, as text.
    """
    return Claimed(
        str(r[0]) if job_id is None else job_id,
        str(r[1]) if tenant_id is None else tenant_id,
        r[2],
        r[3],
        r[4],
        codec.loads(r[5]),
        codec.loads(r[6]) or {},
        r[7],
        r[8],
        r[9],
        r[10],
        r[11],
        bool(r[12]),
    )


def quoted(text: str) -> str:
    """``text`` as an SQL string literal."""
    return "'" + text.replace("'", "''") + "'"
