from __future__ import annotations

import uuid

from headrace.model.ids import new_id, new_ids


def test_ids_are_uuid7_and_sort_in_creation_order() -> None:
    ids = [new_id() for _ in range(10_000)]
    assert ids == sorted(ids) and len(set(ids)) == len(ids)
    parsed = uuid.UUID(ids[0])
    assert parsed.version == 7 and parsed.variant == uuid.RFC_4122


def test_ids_made_in_bulk_are_uuid7_in_order_with_those_made_one_by_one() -> None:
    ids = [new_id(), *new_ids(10_000), new_id(), *new_ids(0), *new_ids(3), new_id()]
    assert len(ids) == 10_006
    assert ids == sorted(ids) and len(set(ids)) == len(ids)
    parsed = [uuid.UUID(i) for i in ids]
    assert all(p.version == 7 and p.variant == uuid.RFC_4122 for p in parsed)
    assert [str(p) for p in parsed] == ids  # the canonical form, lower case
    # More than 4,096 in one call borrow the next milliseconds: never a repeated stamp.
    stamps = [(p.int >> 64) for p in parsed]
    assert len(set(stamps)) == len(stamps)
