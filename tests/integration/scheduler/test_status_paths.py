"""Property test: random schedule/cancel/suspend/resume/claim/finish/crash sequences.

Workers are driven step by step through the same store calls a real worker makes
(claims, fenced writes, ``resolution`` of refused writes, heartbeats, the reaper), so
hypothesis controls every interleaving. Every recorded status path must follow the
machine, and once everything is drained each job must end where its history says.
"""

from __future__ import annotations

import itertools
import os
import uuid
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from headrace import Client, errors
from headrace.model import status as machine
from headrace.model.job import Claimed
from headrace.model.status import Status
from headrace.model.writes import AttemptWrite
from headrace.scheduler.writebuffer import resolve
from headrace.store.attempts import AttemptRepository

S = Status
QUEUE, TYPE = "maintenance", "prop.job"


class SimulatedWorker:
    def __init__(self, client: Client) -> None:
        self.repo = AttemptRepository(client.store, str(uuid.uuid4()))
        self.held: dict[str, Claimed] = {}
        self.started: set[str] = set()

    def write(self, writes: list[AttemptWrite]) -> None:
        refused = self.repo.apply(writes)
        if refused:
            resolve(self.repo, refused)  # as a worker's pump does
        for w in writes:
            if w.path and w.path[-1] not in machine.HELD:
                self.held.pop(w.job_id, None)


def make_machine(new_store: Callable[[], str]) -> type[RuleBasedStateMachine]:  # noqa: C901 - one class
    class StatusPaths(RuleBasedStateMachine):
        def __init__(self) -> None:
            super().__init__()
            self.client = Client(new_store(), run_workers=False)
            self.client.job_type(
                TYPE, queue=QUEUE, max_retries=1, retry_delay_sec=0, suspendable=True
            )(lambda ctx, p: None)
            self.jobs: list[str] = []
            self.workers = [SimulatedWorker(self.client) for _ in range(2)]
            self.canceled: set[str] = set()
            self.suspended: set[str] = set()

        def teardown(self) -> None:
            self.client.close()

        def pick(self, data: Any) -> str | None:
            return data.draw(st.sampled_from(self.jobs)) if self.jobs else None

        @rule()
        def schedule(self) -> None:
            self.jobs.append(self.client.jobs.schedule(TYPE).job_id)

        def candidates(self, started: bool) -> list[tuple[int, str]]:
            return [
                (w, job_id)
                for w, worker in enumerate(self.workers)
                for job_id in sorted(worker.held)
                if (job_id in worker.started) == started
            ]

        @precondition(lambda self: bool(self.jobs))
        @rule(data=st.data(), op=st.sampled_from(["cancel", "suspend", "resume"]))
        def control(self, data: Any, op: str) -> None:
            job_id = data.draw(st.sampled_from(self.jobs))
            before = self.client.jobs.get(job_id)
            try:
                getattr(self.client.jobs, op)(job_id)
            except errors.IllegalTransition:
                after = self.client.jobs.get(job_id)
                assert (after.status, after.updated_at_ms) == (before.status, before.updated_at_ms)
                return
            if op == "cancel":
                self.canceled.add(job_id)
            elif op == "suspend":
                self.suspended.add(job_id)
            else:
                self.suspended.discard(job_id)

        @rule(w=st.integers(0, 1), n=st.integers(1, 3))
        def claim(self, w: int, n: int) -> None:
            worker = self.workers[w]
            for c in worker.repo.claim(QUEUE, [TYPE], n, 60):
                worker.held[c.job_id] = c
                worker.started.discard(c.job_id)  # a new attempt of a job it ran before

        @precondition(lambda self: bool(self.candidates(started=False)))
        @rule(data=st.data())
        def start(self, data: Any) -> None:
            w, job_id = data.draw(st.sampled_from(self.candidates(started=False)))
            worker = self.workers[w]
            c = worker.held[job_id]
            worker.started.add(job_id)
            worker.write([AttemptWrite(c.job_id, c.tenant_id, c.attempt, (S.LOCKED, S.RUNNING))])

        @precondition(lambda self: bool(self.candidates(started=True)))
        @rule(data=st.data(), outcome=st.sampled_from(["ok", "error"]))
        def finish(self, data: Any, outcome: str) -> None:
            w, job_id = data.draw(st.sampled_from(self.candidates(started=True)))
            worker = self.workers[w]
            c = worker.held[job_id]
            if outcome == "ok":
                path, values = (S.RUNNING, S.COMPLETED), {"result": "1"}
            elif c.retries < c.max_retries:
                path, values = (S.RUNNING, S.RETRYING), {"retries": c.retries + 1, "eta_ms": 0}
            else:
                path, values = (S.RUNNING, S.FAILED), {"error": "boom"}
            worker.write([AttemptWrite(c.job_id, c.tenant_id, c.attempt, path, values)])

        @rule(w=st.integers(0, 1))
        def notice_requests(self, w: int) -> None:
            """The worker's control poll: a job told to stop acknowledges it."""
            worker = self.workers[w]
            for job_id, (attempt, status) in worker.repo.held().items():
                c = worker.held.get(job_id)
                if c is None or c.attempt != attempt:
                    continue
                if status is S.CANCELING:
                    worker.write(
                        [AttemptWrite(job_id, c.tenant_id, attempt, (S.CANCELING, S.CANCELED))]
                    )
                elif status is S.SUSPENDING:
                    worker.write(
                        [AttemptWrite(job_id, c.tenant_id, attempt, (S.SUSPENDING, S.SUSPENDED))]
                    )

        @rule(w=st.integers(0, 1))
        def crash(self, w: int) -> None:
            """The worker dies: its leases lapse, the reaper takes its jobs back."""
            dead = self.workers[w]
            dead.repo.heartbeat(-1, list(dead.repo.held()))
            self.workers[1 - w].repo.maintain()
            self.workers[w] = SimulatedWorker(self.client)

        @rule()
        def release_retries(self) -> None:
            self.workers[0].repo.maintain()

        @invariant()
        def paths_follow_the_machine(self) -> None:
            for job_id in self.jobs:
                events = self.client.jobs.events(job_id)
                assert events[0].from_status is None and events[0].to_status is S.WAITING
                for a, b in itertools.pairwise(events):
                    assert b.from_status == a.to_status
                    assert machine.allowed(a.to_status, b.to_status), (a.to_status, b.to_status)
                assert events[-1].to_status is self.client.jobs.get(job_id).status

        def drain(self) -> None:
            """Finish everything: every held job completes, the rest runs on a real worker."""
            for worker in self.workers:
                for c in list(worker.held.values()):
                    if c.job_id not in worker.started:
                        worker.write(
                            [AttemptWrite(c.job_id, c.tenant_id, c.attempt, (S.LOCKED, S.RUNNING))]
                        )
                    worker.write(
                        [
                            AttemptWrite(
                                c.job_id,
                                c.tenant_id,
                                c.attempt,
                                (S.RUNNING, S.COMPLETED),
                                {"result": "1"},
                            )
                        ]
                    )
                worker.repo.maintain()
            self.client.start_workers()
            for job_id in self.jobs:
                job = self.client.jobs.wait(job_id, timeout=30)
                assert job.status in machine.FINAL or job.status is S.SUSPENDED
                if job_id in self.canceled:
                    assert job.status is S.CANCELED
                elif job_id in self.suspended:
                    assert job.status is S.SUSPENDED
                else:
                    assert job.status in (S.COMPLETED, S.FAILED)
            self.paths_follow_the_machine()

    class Checked(StatusPaths):
        def teardown(self) -> None:
            try:
                self.drain()
            finally:
                super().teardown()

    return Checked


@pytest.mark.slow
def test_random_histories_follow_the_machine(store_factory: Callable[[], str]) -> None:
    examples = int(os.environ.get("HEADRACE_PROPERTY_EXAMPLES", "75"))
    run_state_machine_as_test(
        make_machine(store_factory),
        settings=settings(
            max_examples=examples,
            stateful_step_count=30,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow],
        ),
    )
