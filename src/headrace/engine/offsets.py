"""Source offsets in a snapshot blob: read them, and seed a new run from them.

An entity is ``"<source stage>/<split index>"`` (a Stream's split is its partition); its
offset is the split's position as text, or ``None`` for a split not opened yet. A new run
of a job continues from its last run's offsets: ``seed`` keeps only the sources' split
states of that run's last snapshot (no operator state, zeroed metrics), optionally with
some positions replaced (an uploaded offset file).
"""

from __future__ import annotations

import pickle
from collections.abc import Mapping
from typing import Any

import cloudpickle

from headrace.engine.metrics import PipelineMetrics

#: The form of offsets, as StreamSets' JobOffset has it.
OFFSETS_VERSION = 2


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
