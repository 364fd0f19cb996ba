"""JSON in TEXT columns: params, results, state and progress details."""

from __future__ import annotations

import json
from typing import Any

from headrace import errors


def dumps(value: Any, field: str) -> str:
    """JSON text for ``value``.

    Raises:
        InvalidInput: naming ``field`` when the value is not JSON-serialisable.
    """
    # The values most jobs carry (no result, an empty state) without the encoder's call.
    if value is None:
        return "null"
    if type(value) is dict and not value:
        return "{}"
    try:
        return _ENCODER.encode(value)
    except (TypeError, ValueError) as exc:
        raise errors.InvalidInput(field, f"not JSON-serialisable: {exc}") from None


def loads(text: str | None) -> Any:
    """The value a JSON text holds (None for NULL)."""
    if text is None or text == "null":
        return None
    if text == "{}":
        return {}
    return json.loads(text)


def _default(value: Any) -> Any:
    # pydantic models and dataclass-likes become their JSON form rather than failing.
    dump = getattr(value, "model_dump", None)
    if callable(dump):
        return dump(mode="json")
    msg = f"{type(value).__name__} is not JSON-serialisable"
    raise TypeError(msg)


#: One encoder for every call: ``json.dumps`` with options builds a new one each time.
_ENCODER = json.JSONEncoder(separators=(",", ":"), default=_default)
