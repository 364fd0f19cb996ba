"""``stored_row``: a new job's row as an INSERT leaves it, without reading it back."""

from __future__ import annotations

from sqlalchemy.sql.schema import ScalarElementColumnDefault

from headrace.store import tables
from headrace.store.job_rows import stored_row


def test_every_jobs_column_with_a_server_default_has_the_same_scalar_default() -> None:
    # ``stored_row`` fills absent columns from the scalar defaults; a server default
    # that said otherwise would make the returned job differ from the stored one.
    with_server_default = [c for c in tables.jobs.c if c.server_default is not None]
    assert with_server_default  # the check below has columns to look at
    for c in with_server_default:
        assert isinstance(c.default, ScalarElementColumnDefault), c.key
        server = c.server_default.arg
        said = getattr(server, "text", server)
        assert str(said).lower() == str(c.default.arg).lower(), c.key


def test_a_stored_row_has_every_column_and_ids_in_the_form_reads_return() -> None:
    row = stored_row(
        {"job_id": "0193A2B4-C5D6-7E8F-9A0B-1C2D3E4F5A6B", "tenant_id": "0" * 32, "type": "t"}
    )
    assert list(row) == [c.key for c in tables.jobs.c]
    assert row["job_id"] == "0193a2b4-c5d6-7e8f-9a0b-1c2d3e4f5a6b"
    assert row["tenant_id"] == "00000000-0000-0000-0000-000000000000"
    assert (row["attempt"], row["run_count"], row["project"], row["resumed"]) == (
        0,
        1,
        "default",
        False,
    )
    assert row["locked_by"] is None and row["type"] == "t"
