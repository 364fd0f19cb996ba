"""Job-status tests shared by the worker's statements (claims, heartbeats, the reaper).

Status tests are SQL literals, not bound parameters. A prepared statement may run on
PostgreSQL's generic plan, which cannot use a partial index (``ix_jobs_claim``,
``ix_jobs_held``, ``ix_jobs_retrying``) whose predicate names a status unless the query
names it literally; with a parameter the claim fell back to scanning every job of its
type, each round.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, String, bindparam, literal_column

from headrace.model import status as machine
from headrace.model.status import Status
from headrace.store import tables

J = tables.jobs
HELD = [str(s) for s in machine.HELD]
WAITING, LOCKED = str(Status.WAITING), str(Status.LOCKED)
IS_WAITING = J.c.status == literal_column(f"'{WAITING}'", String)
IS_HELD = J.c.status.in_([literal_column(f"'{s}'", String) for s in HELD])
IS_RETRYING = J.c.status == literal_column(f"'{Status.RETRYING}'", String)
#: The time of a statement (epoch ms), bound at execution.
AT = bindparam("p_at", type_=BigInteger)
