"""Window definitions over event time (integer milliseconds)."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["WindowDefinition", "session", "sliding", "tumbling"]


@dataclass(frozen=True)
class WindowDefinition:
    """Which windows an event-time instant belongs to.

    Attributes:
        kind: ``"tumbling"``, ``"sliding"`` or ``"session"``.
        size_ms: Window length (tumbling, sliding); the inactivity gap for sessions.
        step_ms: How far consecutive sliding windows start apart (= size when tumbling).
    """

    kind: str
    size_ms: int
    step_ms: int

    def __post_init__(self) -> None:
        if self.size_ms <= 0 or self.step_ms <= 0:
            msg = f"window sizes must be positive, got {self.size_ms} / {self.step_ms}"
            raise ValueError(msg)
        if self.kind == "sliding" and self.size_ms % self.step_ms:
            msg = f"sliding window size {self.size_ms} must be a multiple of its step"
            raise ValueError(msg)

    def starts(self, ts: int) -> range:
        """The start instants of the fixed windows that contain ``ts``.

        Example:
            >>> list(sliding(1000, 500).starts(1200))
            [500, 1000]
        """
        last = ts - ts % self.step_ms
        return range(last - self.size_ms + self.step_ms, last + 1, self.step_ms)


def tumbling(size_ms: int) -> WindowDefinition:
    """Back-to-back windows of ``size_ms``, aligned to the epoch.

    Example:
        >>> list(tumbling(1000).starts(2500))
        [2000]
    """
    return WindowDefinition("tumbling", int(size_ms), int(size_ms))


def sliding(size_ms: int, step_ms: int) -> WindowDefinition:
    """Windows of ``size_ms`` starting every ``step_ms`` (size a multiple of step).

    Example:
        >>> sliding(1000, 250).step_ms
        250
    """
    return WindowDefinition("sliding", int(size_ms), int(step_ms))


def session(gap_ms: int) -> WindowDefinition:
    """Per-key sessions: events closer than ``gap_ms`` to each other share a window.

    A session spans ``[first_ts, last_ts + gap_ms)``.

    Example:
        >>> session(30_000).kind
        'session'
    """
    return WindowDefinition("session", int(gap_ms), int(gap_ms))
