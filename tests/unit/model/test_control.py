"""The control-call policy (model/control.py) agrees with the status machine."""

from __future__ import annotations

from headrace.model import control
from headrace.model import status as machine
from headrace.model.control import Action, Request
from headrace.model.status import Status

#: The status a request's APPLY reaches from each status (where the service changes status).
TARGETS = {
    Request.SUSPEND: {
        Status.WAITING: Status.SUSPENDED,
        Status.RUNNING: Status.SUSPENDING,
        Status.LOCKED: Status.WAITING,  # handed back, then waiting -> suspended
    },
    Request.RESUME: {Status.SUSPENDED: Status.RESUMING},
    Request.CANCEL: {Status.RUNNING: Status.CANCELING},
}


def test_every_applied_status_change_is_allowed_by_the_machine() -> None:
    for request, targets in TARGETS.items():
        for status, action in control.POLICY[request].items():
            if action is not Action.APPLY:
                continue
            target = targets.get(status, Status.CANCELED)
            assert machine.allowed(status, target), (request, status, target)


def test_final_statuses_refuse_every_request_but_restart_which_starts_a_new_run() -> None:
    for request in Request:
        for status in machine.FINAL:
            expected = Action.START if request is Request.RESTART else Action.REFUSE
            assert control.decide(request, status) is expected, (request, status)
            if expected is Action.START:
                assert status in machine.STARTABLE  # the service's start takes it


def test_a_wait_is_only_on_a_status_that_moves_by_itself() -> None:
    # Statuses a worker or the reaper moves on without a user's call.
    moving = {Status.LOCKED, Status.SUSPENDING, Status.RESUMING, Status.CANCELING}
    for request in Request:
        for status, action in control.POLICY[request].items():
            if action is Action.WAIT:
                assert status in moving, (request, status)
