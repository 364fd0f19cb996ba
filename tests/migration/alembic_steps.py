"""Moving a test store up or down the migrations, as an operator's ``alembic`` would."""

from __future__ import annotations

from alembic import command
from alembic.config import Config

from headrace.store.database import MIGRATIONS, Store


def alembic_step(store: Store, action: str, revision: str) -> None:
    """``alembic upgrade|downgrade <revision>`` on the store's own connection."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with store.write() as conn:
        config.attributes["connection"] = conn
        getattr(command, action)(config, revision)
