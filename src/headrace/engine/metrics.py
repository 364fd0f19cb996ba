"""Per-stage counters of a run and their roll-up."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

__all__ = ["PipelineMetrics", "StageMetrics"]


@dataclass
class StageMetrics:
    """What one stage did, summed over its partitions.

    ``processing_time_ms`` of a fused chain is booked on its first stage: the chain
    runs as one loop, so its parts cannot be timed apart without a cost per item.
    """

    name: str
    kind: str
    received: int = 0
    emitted: int = 0
    batches: int = 0
    #: A source's polls that found no records (StreamSets' idle batches).
    idle_batches: int = 0
    processing_time_ms: float = 0.0
    late_dropped: int = 0
    #: Per partition, the event time (ms) the watermark of this stage's vertex reached
    #: (set on a vertex's first stage only). Not a counter: not compared, not summed.
    watermarks: dict[int, float] = field(default_factory=dict, compare=False)

    def __setstate__(self, state: dict[str, object]) -> None:
        """Unpickles; a snapshot taken before watermarks were kept has none."""
        self.__dict__.update({"watermarks": {}, **state})

    def add(self, other: StageMetrics) -> None:
        """Adds another partition's counters to these (its watermarks replace older ones)."""
        self.received += other.received
        self.emitted += other.emitted
        self.batches += other.batches
        self.idle_batches += other.idle_batches
        self.processing_time_ms += other.processing_time_ms
        self.late_dropped += other.late_dropped
        self.watermarks.update(other.watermarks)

    @property
    def watermark_ms(self) -> int | None:
        """The lowest watermark of the partitions still open (None: none has one yet).

        A streaming job's watermark lag is the wall clock minus this.
        """
        open_ = [w for w in self.watermarks.values() if math.isfinite(w)]
        return int(min(open_)) if open_ else None


@dataclass
class PipelineMetrics:
    """A run's metrics per stage, and the job-level totals derived from them."""

    stages: dict[str, StageMetrics] = field(default_factory=dict)

    def stage(self, name: str, kind: str) -> StageMetrics:
        """The counters of stage ``name``, created at zero."""
        found = self.stages.get(name)
        if found is None:
            found = self.stages[name] = StageMetrics(name, kind)
        return found

    def merge(self, other: PipelineMetrics) -> None:
        """Adds another worker's metrics."""
        for name, m in other.stages.items():
            self.stage(name, m.kind).add(m)

    @property
    def received_count(self) -> int:
        """Items read from the sources."""
        return sum(m.emitted for m in self.stages.values() if m.kind == "source")

    @property
    def emitted_count(self) -> int:
        """Items written to the sinks."""
        return sum(m.received for m in self.stages.values() if m.kind == "sink")

    @property
    def total_processing_time_ms(self) -> float:
        """Time spent inside stages, over every partition."""
        return sum(m.processing_time_ms for m in self.stages.values())

    @property
    def late_dropped_count(self) -> int:
        """Items dropped because they came later than the allowed lag."""
        return sum(m.late_dropped for m in self.stages.values())

    def as_dict(self) -> dict[str, object]:
        """A JSON-ready form (what the store keeps per run)."""
        return {
            "received_count": self.received_count,
            "emitted_count": self.emitted_count,
            "total_processing_time_ms": round(self.total_processing_time_ms, 3),
            "late_dropped_count": self.late_dropped_count,
            "stages": {
                n: {
                    "kind": m.kind,
                    "received": m.received,
                    "emitted": m.emitted,
                    "batches": m.batches,
                    "idle_batches": m.idle_batches,
                    "processing_time_ms": round(m.processing_time_ms, 3),
                    "late_dropped": m.late_dropped,
                    **({"watermark_ms": m.watermark_ms} if m.watermarks else {}),
                }
                for n, m in self.stages.items()
            },
        }
