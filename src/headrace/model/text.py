"""What text and JSON values may be stored: the one check every boundary applies.

A value is accepted only if it round-trips through SQLite, PostgreSQL and JSON unchanged:
no unpaired surrogates (not UTF-8), no NUL characters (PostgreSQL ``text`` refuses them),
bounded length, and JSON nested no deeper than ``MAX_DEPTH``. Ids must be canonical
UUIDs (``urn:uuid:...`` and braces are refused, not silently normalised).
"""

from __future__ import annotations

import uuid
from typing import Any

from headrace import errors

#: A canonical UUID, as the OpenAPI schema states it for path ids.
UUID_PATTERN = "^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$"
#: Deepest nesting of lists and objects in params, values and results.
MAX_DEPTH = 64
#: Longest single string inside a JSON value (characters): above the 32 MiB pipeline body.
MAX_VALUE_CHARS = 64 * 1024 * 1024
#: Values that hold no string and nest nothing (exact types: a ``str`` subclass is checked).
_SCALARS = frozenset({bool, int, float})


def check_text(field: str, value: str, max_chars: int | None = None) -> str:
    """``value`` if it can be stored as text everywhere.

    Raises:
        InvalidInput: naming ``field`` for a NUL, an unpaired surrogate or an over-long value.
    """
    if not isinstance(value, str):
        raise errors.InvalidInput(field, f"must be a string, got {type(value).__name__}")
    if max_chars is not None and len(value) > max_chars:
        raise errors.InvalidInput(field, f"must be at most {max_chars} characters")
    if "\x00" in value:
        raise errors.InvalidInput(field, "must not contain NUL characters")
    if not value.isascii():
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            raise errors.InvalidInput(field, "is not valid Unicode (unpaired surrogate)") from None
    return value


def escaped(value: str, max_chars: int) -> str:
    r"""``value`` made storable for people to read: what cannot be stored shown as escapes.

    For text a job produces as it runs (log lines, error messages), which is kept rather
    than refused: a NUL becomes ``\x00``, an unpaired surrogate ``\ud800``, and a text
    longer than ``max_chars`` is cut there, saying how much was left out.
    """
    if len(value) > max_chars:
        value = f"{value[:max_chars]}... [{len(value) - max_chars} more characters]"
    if "\x00" in value:
        value = value.replace("\x00", "\\x00")
    if not value.isascii():
        value = value.encode("utf-8", "backslashreplace").decode("utf-8")
    return value


def check_optional(field: str, value: str | None, max_chars: int | None = None) -> str | None:
    """``check_text`` for a value that may be None."""
    return None if value is None else check_text(field, value, max_chars)


def check_id(field: str, value: str) -> str:
    """``value`` if it is a canonical UUID (lower-case, hyphenated, 36 characters).

    Raises:
        InvalidInput: naming ``field`` for anything else.
    """
    if isinstance(value, str) and len(value) == 36:
        try:
            if str(uuid.UUID(value)) == value:
                return value
        except ValueError:
            pass
    shown = ascii(value[:80]) if isinstance(value, str) else type(value).__name__
    raise errors.InvalidInput(field, f"must be a canonical UUID, got {shown}")


def check_value(field: str, value: Any, max_depth: int = MAX_DEPTH) -> Any:
    """``value`` if every string (and key) in it is storable and it nests at most ``max_depth``.

    Raises:
        InvalidInput: naming the path to the bad part, ``params.items[3]``.
    """
    if value is None or type(value) in _SCALARS or (type(value) is dict and not value):
        return value  # nothing to check: most results and states (one per attempt's end)
    stack: list[tuple[str, Any, int]] = [(field, value, 0)]
    while stack:
        path, item, depth = stack.pop()
        if isinstance(item, str):
            check_text(path, item, MAX_VALUE_CHARS)
        elif isinstance(item, dict | list | tuple):
            if depth >= max_depth:
                raise errors.InvalidInput(path, f"nests deeper than {max_depth} levels")
            if isinstance(item, dict):
                for key, sub in item.items():
                    if isinstance(key, str):
                        check_text(f"{path} key", key, MAX_VALUE_CHARS)
                    stack.append((f"{path}.{str(key)[:40]}", sub, depth + 1))
            else:
                stack.extend((f"{path}[{i}]", sub, depth + 1) for i, sub in enumerate(item))
    return value
