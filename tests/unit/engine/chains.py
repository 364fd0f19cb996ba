"""Random chains of map, filter and flat_map, for the engine's property tests.

One builder for the tests that draw a chain of steps (``STEPS``) and check what the engine
makes of it (``test_flat_map_slices``, ``test_engine_fused_keys``), with the reference a
plain Python loop gives, both from the same step functions.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from hypothesis import strategies as st

from headrace.pipeline import Pipeline, counting, summing

#: A chain of one to five steps, each "map", "filter" or "flat_map".
STEPS = st.lists(st.sampled_from(["map", "filter", "flat_map"]), min_size=1, max_size=5)


def step_function(step: str, fan_out: int) -> Callable[[int], Any]:
    """The user function of ``step``: map adds one, filter drops multiples of 3, flat_map
    turns ``x`` into ``range(x % fan_out)`` (zero to ``fan_out - 1`` items)."""
    if step == "filter":
        return lambda x: x % 3
    if step == "flat_map":
        return lambda x: range(x % fan_out)
    return lambda x: x + 1


def pipeline(
    xs: list[int],
    steps: list[str],
    tail: str,
    *,
    fan_out: int,
    keys: int,
    sink: Callable[[str], Any] = Pipeline.to_list,
) -> Pipeline:
    """``xs`` through ``steps``, then to the sink ``sink("o")``.

    ``tail``: "list" writes the items; "count" and "sum" group them by ``x % keys`` and
    write each key's count or sum (the keying step fused into the chain's loop).
    """
    p = Pipeline.create()
    stage: Any = p.read_from(Pipeline.items(xs))
    for step in steps:
        stage = getattr(stage, step)(step_function(step, fan_out))
    if tail == "list":
        stage.write_to(sink("o"))
    else:
        op = counting() if tail == "count" else summing()
        stage.group_by(lambda x: x % keys).aggregate(op).write_to(sink("o"))
    return p


def stage_counts(xs: Iterable[int], steps: list[str], fan_out: int) -> list[tuple[int, int]]:
    """(received, emitted) of each step of ``pipeline``'s chain, by plain Python."""
    out: list[tuple[int, int]] = []
    items = list(xs)
    for step in steps:
        fn = step_function(step, fan_out)
        before = len(items)
        if step == "filter":
            items = [x for x in items if fn(x)]
        elif step == "flat_map":
            items = [y for x in items for y in fn(x)]
        else:
            items = [fn(x) for x in items]
        out.append((before, len(items)))
    return out
