"""A stage's watermark in the metrics: the lowest open partition's, merged across workers."""

from __future__ import annotations

import math
import pickle

from headrace.engine.metrics import PipelineMetrics, StageMetrics


def test_the_watermark_is_the_lowest_of_the_open_partitions() -> None:
    one, two = PipelineMetrics(), PipelineMetrics()
    one.stage("source#0", "source").watermarks.update({0: 5_000.0, 1: 7_000.0})
    two.stage("source#0", "source").watermarks.update({2: 6_000.0, 3: math.inf})  # 3 ended
    total = PipelineMetrics()
    total.merge(one)
    total.merge(two)
    assert total.stages["source#0"].watermark_ms == 5_000
    assert total.as_dict()["stages"]["source#0"]["watermark_ms"] == 5_000  # type: ignore[index]
    later = PipelineMetrics()
    later.stage("source#0", "source").watermarks[0] = 9_000.0
    total.merge(later)  # a newer report of partition 0 replaces the older one
    assert total.stages["source#0"].watermark_ms == 6_000


def test_no_watermark_yet_or_all_ended_reads_none_and_stays_out_of_counters() -> None:
    metrics = PipelineMetrics()
    plain = metrics.stage("map#1", "map")
    assert plain.watermark_ms is None
    assert "watermark_ms" not in metrics.as_dict()["stages"]["map#1"]  # type: ignore[index]
    ended = metrics.stage("source#0", "source")
    ended.watermarks[0] = math.inf
    assert ended.watermark_ms is None
    assert ended == StageMetrics("source#0", "source")  # not compared: not a counter


def test_metrics_pickled_before_watermarks_were_kept_still_load() -> None:
    old = StageMetrics("source#0", "source", received=3)
    state = dict(old.__dict__)
    del state["watermarks"]  # what a snapshot of an older version holds
    loaded = StageMetrics.__new__(StageMetrics)
    loaded.__setstate__(state)
    loaded.add(StageMetrics("source#0", "source", received=1))
    assert loaded.received == 4 and loaded.watermark_ms is None
    assert pickle.loads(pickle.dumps(loaded)) == loaded
