"""The values seed 002 prints have the seed's reprs."""

from __future__ import annotations

from headrace.controlhub import models
from headrace.model.facades import ControlHubColor, ControlHubStatus


def test_reprs_are_the_seeds() -> None:
    status = models.JobStatus(
        ControlHubStatus.INACTIVE, ControlHubColor.GREEN, 1585923912290, 1585923935759, 2
    )
    assert repr(status) == (
        "<JobStatus (status=INACTIVE, start_time=1585923912290, "
        "finish_time=1585923935759, run_count=2)>"
    )
    event = models.JobRunEvent("admin@admin", 1560367534056, ControlHubStatus.ACTIVATING)
    assert repr(event) == "<JobRunEvent (user=admin@admin, time=1560367534056, status=ACTIVATING)>"
    system = models.JobRunEvent(None, 1560367537771, ControlHubStatus.DEACTIVATING)
    assert repr(system) == "<JobRunEvent (user=None, time=1560367537771, status=DEACTIVATING)>"
    metrics = models.JobMetrics(5, 3204, 3204, 0)
    assert repr(metrics) == (
        "<JobMetrics (run_count=5, input_count=3204, output_count=3204, total_error_count=0)>"
    )
    offset = models.JobOffset("0501dc93", "896197a7", {"version": 2, "offsets": {}})
    assert repr(offset) == "<JobOffset (sdc_id=0501dc93, pipeline_id=896197a7)>"
    assert repr(models.Tag("test")) == "<Tag (tag=test)>"


def test_statuses_compare_as_the_sdks_strings() -> None:
    status = models.JobStatus(ControlHubStatus.ACTIVE, ControlHubColor.GREEN, 1, None, 1)
    assert status.status == "ACTIVE" and status.color == "GREEN"


def test_lists_find_by_the_sdks_attributes() -> None:
    runs = models.history(
        [
            models.JobStatus(ControlHubStatus.INACTIVE, ControlHubColor.GREEN, 30, 40, 2),
            models.JobStatus(ControlHubStatus.INACTIVE, ControlHubColor.RED, 10, 20, 1),
        ]
    )
    assert runs.get(start_time=10).run_count == 1
    assert runs.get(color="RED").start_time == 10
    entries = models.metrics([models.JobMetrics(2, 9, 9, 0), models.JobMetrics(1, 7, 7, 0)])
    assert entries.get(run_count=2).input_count == 9
    assert models.tags(["a/b", "c"]).get(tag="a/b").id == "a/b"
