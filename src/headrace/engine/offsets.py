"""Source offsets in a snapshot blob: read them, and seed a new run from them.

An entity is ``"<source stage>/<split index>"`` (a Stream's split is its partition); its
offset is the split's position as text, or ``None`` for a split not opened yet. A new run
of a job continues from its last run's offsets: ``seed`` keeps only the sources' split
states of that run's last snapshot (no operator state, zeroed metrics), optionally with
some positions replaced (an uploaded offset file). A job's first run has no snapshot
to seed from: ``initial`` makes one from the splits its sources list now.
"""

from __future__ import annotations

import pickle
from collections.abc import Mapping
from typing import Any

import cloudpickle

from headrace.connectors.base import DataStructureProvider
from headrace.engine import io
from headrace.engine.metrics import PipelineMetrics
from headrace.engine.plan import Plan, build_plan
from headrace.engine.runtime import EngineOptions
from headrace.engine.snapshot import encode, signature
from headrace.pipeline import Pipeline

#: The form of offsets, as StreamSets' JobOffset has it.
OFFSETS_VERSION = 2
#: Items per list split, as a run lists them.
SPLIT_ITEMS = EngineOptions().split_items


def _load(blob: bytes) -> tuple[dict[str, Any], dict[tuple[Any, ...], Any]]:
    data: dict[str, Any] = pickle.loads(blob)
    parts: dict[tuple[Any, ...], Any] = {}
    for part in data["parts"]:
        parts.update(pickle.loads(part))
    return data, parts


def _entity(data: dict[str, Any], vertex: int, index: int) -> str:
    return f"{data['signature'][vertex][0]}/{index}"


def read(blob: bytes) -> dict[str, str | None]:
    """Every source split's offset in a snapshot, by entity."""
    data, parts = _load(blob)
    found: dict[str, str | None] = {}
    for key, state in sorted(parts.items(), key=lambda kv: (kv[0][1], kv[0][2])):
        if key[0] == "split":
            position = state[2]
            found[_entity(data, key[1], key[2])] = None if position is None else str(position)
    return found


def seed(blob: bytes, overrides: Mapping[str, str | None] | None = None) -> bytes:
    """A snapshot that starts a new run at ``blob``'s source offsets (some replaced).

    Raises:
        KeyError: an override names an entity the snapshot has no split for.
    """
    data, parts = _load(blob)
    kept: dict[tuple[Any, ...], Any] = {}
    entities = {}
    for key, state in parts.items():
        if key[0] == "split":
            kept[key] = state
            entities[_entity(data, key[1], key[2])] = key
        elif key[0] == "feed":
            kept[key] = state
    for entity, value in (overrides or {}).items():
        key = entities[entity]
        finished, _started, position, tstate = kept[key]
        if value is None:
            kept[key] = (False, False, None, tstate)
        else:
            typed: Any = int(value) if isinstance(position, int) or position is None else value
            kept[key] = (False, True, typed, tstate)
        del finished
    data = {
        **data,
        "parts": [bytes(cloudpickle.dumps(kept))],
        "metrics": PipelineMetrics(),
    }
    return bytes(cloudpickle.dumps(data))


def source_splits(
    pipeline: Pipeline, provider: DataStructureProvider, split_items: int = SPLIT_ITEMS
) -> tuple[Plan, dict[int, list[Any]]]:
    """The pipeline's plan and the splits each source lists now (nothing is read).

    What a run that started now would read: the first run of a job, before any snapshot.
    """
    plan = build_plan(pipeline)
    listed: dict[int, list[Any]] = {}
    for spec in plan.vertices:
        if spec.head is not None and spec.head.kind == "source":
            assert spec.head.source is not None
            listed[spec.id] = io.source_connector(spec.head.source).splits(provider, split_items)
    return plan, listed


def entities(plan: Plan, splits: Mapping[int, list[Any]]) -> list[str]:
    """Every source split of ``plan`` by entity name (as ``read`` names them)."""
    names = signature(plan)
    return [f"{names[v][0]}/{i}" for v, found in sorted(splits.items()) for i in range(len(found))]


def initial(
    plan: Plan,
    splits: dict[int, list[Any]],
    parallelism: int,
    overrides: Mapping[str, str | None],
) -> bytes:
    """A snapshot that starts a job's first run at ``overrides`` (other splits at their start).

    Raises:
        KeyError: an override names an entity no source split has.
    """
    names = signature(plan)
    keys = {f"{names[v][0]}/{i}": (v, i) for v, found in splits.items() for i in range(len(found))}
    parts: dict[tuple[Any, ...], Any] = {}
    for entity, value in overrides.items():
        vertex, index = keys[entity]
        if value is not None:
            parts[("split", vertex, index)] = (False, True, int(value), {})
    return encode(plan, parallelism, splits, [bytes(cloudpickle.dumps(parts))], PipelineMetrics())


def misfit(blob: bytes, plan: Plan, parallelism: int) -> str | None:
    """Why a run of ``plan`` at ``parallelism`` cannot start from ``blob``, or None if it can.

    A job re-pinned to a commit with other stages, or configured for another parallelism,
    cannot continue from its last run's snapshot.
    """
    data = pickle.loads(blob)
    if [tuple(s) for s in data["signature"]] != [tuple(s) for s in signature(plan)]:
        return "its offsets were committed by a pipeline commit whose stages differ"
    if data["parallelism"] != parallelism:
        return f"its offsets were committed at local_parallelism {data['parallelism']}"
    return None
