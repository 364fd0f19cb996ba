"""A closed store's engine: it opens no connection, and closes any handed back late.

``Engine.dispose`` alone leaves an engine usable: its next ``connect`` opens a new pool
and a new session, which nobody closes once the store is gone (psycopg's "connection was
not closed" warnings at garbage collection). ``Store`` checks itself at every entry; this
guards the engine below it, for what reaches the engine straight (``sqlite_round``,
``sqlite_schedule``) and for a thread that checked before ``close`` and connects after.
"""

from __future__ import annotations

import threading
from typing import Any

from sqlalchemy import Engine, event

from headrace import errors


def guard(engine: Engine, closed: threading.Event, url: str) -> None:
    """Refuse ``engine``'s new connections once ``closed`` is set; close late returns.

    A refused connect raises ``StoreClosed`` before the driver is called, so no session
    is opened. A connection checked out before ``close`` (a transaction under way as it
    ran) is closed as it comes back, instead of resting in the disposed pool.
    """

    def refuse(_dialect: object, _record: object, _args: object, _params: object) -> None:
        if closed.is_set():
            raise errors.StoreClosed(url)

    def close_late(dbapi_connection: Any, record: Any) -> None:
        if closed.is_set() and dbapi_connection is not None:
            record.close()

    event.listen(engine, "do_connect", refuse, insert=True)
    event.listen(engine, "checkin", close_late)
