"""Poison text through the Python API (embedded and remote, both stores): InvalidInput."""

from __future__ import annotations

from typing import Any

import pytest

from headrace import errors

DEEP: Any = 0
for _ in range(100):
    DEEP = {"d": DEEP}


@pytest.mark.parametrize(
    ("call", "field"),
    [
        (lambda c: c.jobs.schedule("t.poison", {"a": "\ud800"}), "params"),
        (lambda c: c.jobs.schedule("t.poison", DEEP), "params"),
        (lambda c: c.jobs.schedule("t.poison", name="n\x00"), "name"),
        (lambda c: c.jobs.schedule("t.poison", idempotency_key="k\udfff"), "idempotency_key"),
        (lambda c: c.jobs.schedule("t.po\x00ison"), "type"),
        (lambda c: c.jobs.list(type="a\x00"), "type"),
        (lambda c: c.jobs.get("urn:uuid:0190c0de-0000-7000-8000-000000000000"), "job_id"),
        (lambda c: c.jobs.cancel("a\x00"), "job_id"),
        (lambda c: c.get_list("l\x00").append(1), "name"),
        (lambda c: c.jobs.schedule_many("t.poison", [{"a": 1}, {"a": "\ud800"}]), "params[1]"),
        (lambda c: c.jobs.schedule_many("t.poison", [1, 2, DEEP]), "params[2]"),
        (lambda c: c.jobs.schedule_many("t.poison", [1], description="d\x00"), "description"),
        (lambda c: c.jobs.schedule_many("t.po\x00ison", [1]), "type"),
    ],
)
def test_poison_text_is_invalid_input_naming_the_field_and_nothing_is_written(
    client: Any, call: Any, field: str
) -> None:
    client.job_type("t.poison")(lambda ctx, p: p)
    with pytest.raises(errors.InvalidInput) as caught:
        call(client)
    assert field in caught.value.field
    assert client.jobs.list().total == 0
