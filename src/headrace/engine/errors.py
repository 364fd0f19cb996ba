"""The engine's own failure: a user function raised while the pipeline ran."""

from __future__ import annotations

from typing import Any

__all__ = ["AccumulationLimitExceeded", "UserFunctionError"]

#: How much of the failing item's repr an error keeps.
ITEM_REPR_CHARS = 200


def short_repr(item: object) -> str:
    """``repr(item)``, cut to ``ITEM_REPR_CHARS`` characters."""
    try:
        text = repr(item)
    except Exception:
        text = f"<{type(item).__name__} with a failing repr>"
    return text if len(text) <= ITEM_REPR_CHARS else text[: ITEM_REPR_CHARS - 3] + "..."


class UserFunctionError(RuntimeError):
    """A function given to a stage raised; names the stage, the item and the traceback.

    Attributes:
        stage: The stage's name (``map#3``).
        item: The failing item's repr, truncated.
        traceback_text: The formatted traceback of the user function's exception.
    """

    def __init__(self, stage: str, item: str, traceback_text: str, cause: str = "") -> None:
        self.stage = stage
        self.item = item
        self.traceback_text = traceback_text
        self.cause = cause
        super().__init__(f"stage {stage!r} failed on item {item}: {cause}")

    def __reduce__(self) -> tuple[Any, ...]:
        return (UserFunctionError, (self.stage, self.item, self.traceback_text, self.cause))


class AccumulationLimitExceeded(RuntimeError):
    """A stateful stage holds more records than ``max_processor_accumulated_records``."""

    def __init__(self, stage: str, held: int, limit: int) -> None:
        self.stage = stage
        self.held = held
        self.limit = limit
        super().__init__(
            f"stage {stage!r} holds {held} records, more than "
            f"max_processor_accumulated_records={limit}"
        )

    def __reduce__(self) -> tuple[Any, ...]:
        return (AccumulationLimitExceeded, (self.stage, self.held, self.limit))
