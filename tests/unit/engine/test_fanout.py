"""The order a sender serves the partitions it fans out to: other workers' first."""

from __future__ import annotations

from typing import Any

import pytest

from headrace.engine.edges import Message, Sender
from headrace.engine.plan import build_plan
from headrace.pipeline import Pipeline, counting


def _sender(local: set[int]) -> tuple[Sender, list[Message]]:
    """Partition 1 of 3 of a keyed count's edge, delivering into a list."""
    p = Pipeline.create()
    p.read_from(Pipeline.items(range(30))).group_by(lambda x: x).aggregate(counting()).write_to(
        Pipeline.to_list("counts")
    )
    plan = build_plan(p)
    edge = plan.vertices[0].outputs[0]
    head = plan.vertices[edge.dst].head
    assert head is not None and edge.combine == "keyed"
    delivered: list[Message] = []
    return Sender(edge, head, 1, 3, delivered.append, local), delivered


@pytest.mark.parametrize(
    ("local", "order"),
    [({1}, [0, 2, 1]), ({0, 1, 2}, [0, 1, 2]), (set(), [0, 1, 2])],
)
def test_folded_state_and_the_end_go_to_other_workers_first(
    local: set[int], order: list[int]
) -> None:
    sender, delivered = _sender(local)
    sender.send(list(range(30)), None)
    sender.finish()
    # Each target's share is followed by its end, before the next target's share: a
    # worker's own partition (delivered at once) never holds up another's end.
    assert [(m[0], m[2]) for m in delivered] == [(k, p) for p in order for k in ("p", "e")]
    shares: dict[Any, int] = {}
    for m in delivered[::2]:
        assert all(hash(k) % 3 == m[2] for k in m[4])
        shares.update(m[4])
    assert shares == {k: 1 for k in range(30)}
