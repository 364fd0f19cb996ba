"""The facade status tables: total, and each image as ARCHITECTURE §2 gives it."""

from __future__ import annotations

import pytest

from headrace.model import facades
from headrace.model import status as machine
from headrace.model.facades import ControlHubColor as Colour
from headrace.model.facades import ControlHubStatus as CH
from headrace.model.facades import JetJobStatus as Jet
from headrace.model.facades import JobRunState as W
from headrace.model.status import Status as S

# ARCHITECTURE §2, row by row (the Jet column without its batch-draining nuance), and
# issue 12's ``created`` (a job defined, never started).
EXPECTED: dict[S, tuple[Jet, tuple[CH, Colour], W]] = {
    S.CREATED: (Jet.NOT_RUNNING, (CH.INACTIVE, Colour.GREEN), W.Queued),
    S.INITIALIZING: (Jet.NOT_RUNNING, (CH.ACTIVATING, Colour.GREEN), W.Queued),
    S.WAITING: (Jet.NOT_RUNNING, (CH.ACTIVATING, Colour.GREEN), W.Queued),
    S.LOCKED: (Jet.STARTING, (CH.ACTIVATING, Colour.GREEN), W.Starting),
    S.RUNNING: (Jet.RUNNING, (CH.ACTIVE, Colour.GREEN), W.Running),
    S.RETRYING: (Jet.RUNNING, (CH.ACTIVE, Colour.GREEN), W.Running),
    S.CANCELING: (Jet.COMPLETING, (CH.DEACTIVATING, Colour.GREEN), W.Canceling),
    S.SUSPENDING: (Jet.SUSPENDED_EXPORTING_SNAPSHOT, (CH.DEACTIVATING, Colour.GREEN), W.Paused),
    S.SUSPENDED: (Jet.SUSPENDED, (CH.INACTIVE, Colour.GREEN), W.Paused),
    S.RESUMING: (Jet.STARTING, (CH.ACTIVATING, Colour.GREEN), W.Resuming),
    S.COMPLETED: (Jet.COMPLETED, (CH.INACTIVE, Colour.GREEN), W.Completed),
    S.SKIPPED: (Jet.COMPLETED, (CH.INACTIVE, Colour.GREEN), W.Completed),
    S.CANCELED: (Jet.FAILED, (CH.INACTIVE, Colour.GREEN), W.Canceled),
    S.FAILED: (Jet.FAILED, (CH.INACTIVE, Colour.RED), W.Failed),
    S.TIMEOUT: (Jet.FAILED, (CH.INACTIVE, Colour.RED), W.Failed),
}


@pytest.mark.parametrize("table", [facades.JET, facades.CONTROLHUB, facades.PLATFORM])
def test_every_table_is_total(table: dict[S, object]) -> None:
    assert set(table) == set(S)


@pytest.mark.parametrize("status", list(S))
def test_each_status_has_its_images(status: S) -> None:
    jet, controlhub, platform = EXPECTED[status]
    assert facades.JET[status] is jet
    assert facades.controlhub_status(status) == controlhub
    assert facades.platform_state(status) is platform


@pytest.mark.parametrize("status", list(S))
def test_unacknowledged_errors_show_the_error_statuses(status: S) -> None:
    plain = facades.controlhub_status(status)
    after_run = facades.controlhub_status(status, unacknowledged=True)
    never_ran = facades.controlhub_status(status, unacknowledged=True, ran=False)
    if status in (S.FAILED, S.TIMEOUT):
        assert after_run == (CH.INACTIVE_ERROR, Colour.RED)
        assert never_ran == (CH.ACTIVATION_ERROR, Colour.RED)
    else:
        # Acknowledgement is about error endings only; every other image is unchanged.
        assert after_run == never_ran == plain


def test_every_controlhub_status_is_some_image() -> None:
    shown = {image for image, _ in facades.CONTROLHUB.values()}
    for error_images in facades.CONTROLHUB_UNACKNOWLEDGED.values():
        shown.update(error_images)
    assert shown == set(CH)


def test_completed_with_rejected_records_is_completed_with_errors() -> None:
    assert facades.platform_state(S.COMPLETED, error_count=3) is W.CompletedWithErrors
    assert facades.platform_state(S.COMPLETED, error_count=0) is W.Completed
    # Only a completed run: a failed one stays Failed whatever it rejected.
    assert facades.platform_state(S.FAILED, error_count=3) is W.Failed


def test_job_run_state_helpers_agree_with_the_machine() -> None:
    assert [s.value for s in W] == [
        "Queued", "Starting", "Running", "Paused", "Resuming", "Canceling", "Canceled",
        "Failed", "Completed", "CompletedWithErrors", "CompletedWithWarnings",
    ]  # fmt: skip
    assert W.terminal_states() | W.active_states() == set(W)
    assert not W.terminal_states() & W.active_states()
    assert W.success_states() | W.failure_states() == W.terminal_states()
    for status, state in facades.PLATFORM.items():
        # A run is terminal in watsonx exactly when it is final in the canonical machine.
        assert state.is_terminal() == (status in machine.FINAL), status
    assert W("Queued") is W.Queued and W.Queued == "Queued"
