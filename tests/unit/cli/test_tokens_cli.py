"""``headrace tokens``: create with an expiry, list with state and last use, revoke by id."""

from __future__ import annotations

import json

from cli_support import run

from headrace.service.tokens import TokenService
from headrace.store.database import Store


def test_tokens_expire_list_their_last_use_and_revoke_by_id(store_url: str) -> None:
    made = run("tokens", "create", "--store", store_url, "--tenant", "acme", "--user", "ann",
               "--role", "admin", "--expires-in", "30d")  # fmt: skip
    assert made.exit_code == 0, made.output
    token = made.stdout.split()[-1]
    forever = run("tokens", "create", "--store", store_url, "--tenant", "acme", "--user", "bob")
    assert forever.exit_code == 0 and "expires never" in forever.stdout
    store = Store(store_url)
    try:
        TokenService(store).authenticate(token)  # a request's use of the token
    finally:
        store.close()
    shown = run("tokens", "ls", "--store", store_url, "--tenant", "acme", "--json").stdout
    listed = {r["user_name"]: r for r in json.loads(shown)}
    ann, bob = listed["ann"], listed["bob"]
    assert ann["expires_at_ms"] - ann["created_at_ms"] == 30 * 86400 * 1000
    assert ann["last_used_at_ms"] is not None and ann["state"] == "live"
    assert bob["expires_at_ms"] is None and bob["last_used_at_ms"] is None
    table = run("tokens", "ls", "--store", store_url).stdout.splitlines()
    assert table[0].split("\t") == [
        "token_id", "tenant", "user", "role", "state", "expires", "last_used"
    ]  # fmt: skip
    assert run("tokens", "revoke", ann["token_id"], "--store", store_url).exit_code == 0
    again = json.loads(run("tokens", "ls", "--store", store_url, "--json").stdout)
    assert {r["user_name"]: r["state"] for r in again} == {"ann": "revoked", "bob": "live"}
    unknown = run("tokens", "revoke", ann["token_id"], "--store", store_url)
    assert unknown.exit_code == 1 and "not found" in unknown.stderr


def test_a_bad_expiry_is_refused_naming_it_and_creates_nothing(store_url: str) -> None:
    for bad in ("0d", "soon", "-5m", "11000d"):
        refused = run("tokens", "create", "--store", store_url, "--tenant", "acme",
                      "--user", "ann", "--expires-in", bad)  # fmt: skip
        assert refused.exit_code == 2 and "expires_in" in refused.stderr, bad
    assert json.loads(run("tokens", "ls", "--store", store_url, "--json").stdout) == []
