"""What a job says (log lines, errors, progress, state, result) is checked like any text.

Issue 14: text a job produces that no database stores as it is (a NUL, an unpaired
surrogate) or that is too long must neither wedge its worker (the store refusing a
round's writes, retried forever) nor break the reads that follow. Log lines and error
messages are kept with such characters escaped and cut at a limit; structured values
(progress details, state, result) are refused to the job with ``InvalidInput``. A real
``headrace worker`` process, on both stores.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from tests_acceptance_support import start_worker, stop

from headrace import Client, defaults
from headrace.model.status import Status

pytestmark = pytest.mark.slow


def test_a_job_saying_unstorable_text_fails_clearly_and_the_worker_goes_on(
    store_url: str, tmp_path: Path
) -> None:
    import worker_jobs  # noqa: F401 - registers the job types in this process too

    ledger = tmp_path / "ledger.txt"
    client = Client(store_url, run_workers=False)
    worker = start_worker(store_url, "compute=1", 3.0, tmp_path / "worker.log")
    try:
        bad = client.jobs.schedule("acc.poison").job_id
        after = client.jobs.schedule("acc.fragile", {"ledger": str(ledger)}).job_id
        ended = client.jobs.wait(bad, 60)
        assert client.jobs.wait(after, 60).status is Status.COMPLETED, "the worker is wedged"
    finally:
        stop(worker)
    assert ended.status is Status.FAILED
    assert "bad \\x00 byte \\udfff" in (ended.error or "")
    lines = [line.message for line in client.jobs.logs(bad)]
    assert lines[0] == "nul \\x00 and surrogate \\ud800 in a line"
    cut = f"{'x' * defaults.MAX_LOG_LINE_CHARS}... [10 more characters]"
    assert lines[1] == cut
    assert "bad \\x00 byte \\udfff" in lines[2]
    # Every read of the job answers, on both clients' paths (JSON encodes it).
    assert client.jobs.list(type="acc.poison").total == 1
    client.close()
