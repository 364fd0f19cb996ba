"""The API processes' supervisor: a process that exited is replaced at the next check, without
waiting on a health ping; one that leaves its ping unanswered too long is killed as hung.

On stand-in processes (a real pipe, no interpreter), so each check is one call;
``tests/acceptance/test_server_api_processes.py`` kills a real API process.
"""

from __future__ import annotations

import multiprocessing
import time
from types import SimpleNamespace
from typing import Any

import pytest
from uvicorn.config import STARTUP_FAILURE
from uvicorn.supervisors import multiprocess

from headrace.api import supervisor


class StandIn:
    """What the supervisor uses of uvicorn's ``Process``, answering pings when told."""

    made: list[StandIn]

    def __init__(self, config: object, sockets: object) -> None:
        self.parent_conn, self.child_conn = multiprocessing.Pipe()
        self.exitcode: int | None = None
        self.pid = 1000 + len(StandIn.made)
        self.process = SimpleNamespace(is_alive=lambda: self.exitcode is None)
        StandIn.made.append(self)

    def start(self) -> None:
        pass

    def kill(self) -> None:
        if self.exitcode is None:
            self.exitcode = -9

    def join(self) -> None:
        pass

    def answer(self) -> None:
        """Answer the pings sent so far, as the API process's pong thread does."""
        while self.child_conn.poll():
            self.child_conn.recv()
            self.child_conn.send(True)


@pytest.fixture
def parent(monkeypatch: pytest.MonkeyPatch) -> Any:
    """A supervisor of two stand-ins, health-check bound 0.3 s (no signal handlers set)."""
    StandIn.made = []
    monkeypatch.setattr(supervisor, "Process", StandIn)
    monkeypatch.setattr(multiprocess.signal, "signal", lambda *args: None)
    config: Any = SimpleNamespace(workers=2, timeout_worker_healthcheck=0.3)
    made = supervisor.Supervisor(config, sockets=[])
    made.processes = [StandIn(config, []), StandIn(config, [])]
    return made


def answer_all(parent: Any) -> None:
    for p in parent.processes:
        p.answer()


def test_a_process_that_exited_is_replaced_at_the_next_check(
    parent: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    first, second = parent.processes
    parent.keep_subprocess_alive()  # pings both
    answer_all(parent)
    parent.keep_subprocess_alive()  # reads the answers
    assert parent.processes == [first, second]
    parent.keep_subprocess_alive()  # pings both again; this time one dies with its ping out
    second.exitcode = -9
    parent.keep_subprocess_alive()
    assert parent.processes[0] is first and parent.processes[1] not in (first, second)
    assert f"API process {second.pid} exited (-9); started API process" in capsys.readouterr().err


def test_a_process_that_leaves_its_ping_unanswered_is_replaced_after_the_bound(
    parent: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    first, second = parent.processes
    parent.keep_subprocess_alive()
    first.answer()  # the second is held (SIGSTOP, say): it answers nothing
    parent.keep_subprocess_alive()
    assert parent.processes == [first, second]  # not yet: it may still answer
    time.sleep(0.35)
    first.answer()
    parent.keep_subprocess_alive()
    assert parent.processes[0] is first and parent.processes[1] is not second
    assert second.exitcode == -9  # killed as hung
    assert f"API process {second.pid} did not answer its health check" in capsys.readouterr().err


def test_a_process_that_failed_to_start_stops_the_parent(parent: Any) -> None:
    first, second = parent.processes
    second.exitcode = STARTUP_FAILURE
    parent.keep_subprocess_alive()
    assert parent.should_exit.is_set()
    assert parent.processes == [first, second]  # not replaced: it would fail again
