"""``tables.TextUuid``: a UUID stored as hex on SQLite reads back as SQLAlchemy's ``Uuid`` would."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import Uuid
from sqlalchemy.dialects import postgresql, sqlite

from headrace.store.tables import UUID


@pytest.mark.parametrize(
    "stored",
    [
        uuid.uuid4().hex,
        uuid.uuid4().hex.upper(),
        "0" * 32,
        "00000000-0000-0000-0000-000000000001",
        None,
    ],
    # Ids of their own: a random value in a test's id differs between xdist's workers,
    # which must all collect the same tests.
    ids=["random-hex", "random-hex-upper", "zeros", "hyphenated", "none"],
)
def test_a_stored_uuid_reads_as_the_plain_uuid_type_reads_it(stored: str | None) -> None:
    dialect = sqlite.dialect()
    fast = UUID.dialect_impl(dialect).result_processor(dialect, None)
    plain_type = Uuid(as_uuid=False).dialect_impl(dialect)
    plain = plain_type.result_processor(dialect, None)  # type: ignore[no-untyped-call]
    assert fast is not None and plain is not None
    assert fast(stored) == plain(stored)


def test_a_malformed_stored_uuid_is_refused_as_before() -> None:
    dialect = sqlite.dialect()
    fast = UUID.dialect_impl(dialect).result_processor(dialect, None)
    with pytest.raises(ValueError):
        fast("not a uuid")


def test_postgresql_keeps_its_own_uuid_type() -> None:
    assert type(UUID.dialect_impl(postgresql.psycopg.dialect())).__name__ == "PGUuid"
