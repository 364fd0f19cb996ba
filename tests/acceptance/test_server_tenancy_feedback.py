"""``headrace server`` as a real process: tenants by name, and an insecure-local warning.

An ``--insecure-local`` server warns as it starts and answers a request that sent a token
with a header saying it was ignored. ``client.for_tenant("acme")`` is the tenant of the
tokens ``headrace tokens create --tenant acme`` makes.
"""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from test_server_process import free_port, headrace, start, stop

from headrace import Client

pytestmark = pytest.mark.slow

HEADER = "X-Headrace-Insecure-Local"


def test_insecure_local_warns_at_start_and_flags_ignored_tokens(tmp_path: Path) -> None:
    port, log = free_port(), tmp_path / "server.log"
    server = start(f"sqlite:///{tmp_path}/s.db", port, log, "--insecure-local")
    try:
        text = log.read_text()
        assert "warning: --insecure-local" in text and "Authorization headers are ignored" in text
        url = f"http://127.0.0.1:{port}"
        with_token = httpx.get(f"{url}/jobs", headers={"Authorization": "Bearer hr_acme"})
        assert with_token.status_code == 200
        assert "Authorization ignored" in with_token.headers[HEADER]
        without = httpx.get(f"{url}/jobs")
        assert without.status_code == 200 and HEADER not in without.headers
    finally:
        stop(server)


def test_for_tenant_takes_the_names_tokens_create_takes(tmp_path: Path) -> None:
    store_url = f"sqlite:///{tmp_path}/t.db"
    made = headrace("tokens", "create", "--store", store_url, "--tenant", "acme",
                    "--user", "ann", "--role", "operator")  # fmt: skip
    assert made.returncode == 0, made.stderr
    token = made.stdout.split()[-1]
    port = free_port()
    server = start(store_url, port, tmp_path / "server.log")
    try:
        remote = Client(f"http://127.0.0.1:{port}", token=token)
        job = remote.jobs.schedule("acc.work", {"ledger": str(tmp_path / "l.txt")}, delay_sec=3600)
        assert remote.for_tenant("acme") is remote
        local = Client(store_url, run_workers=False)
        try:
            assert local.for_tenant("acme").jobs.get(job.job_id).job_id == job.job_id
            assert local.jobs.list().total == 0  # the default tenant sees none of acme's
        finally:
            local.close()
        remote.close()
    finally:
        stop(server)
