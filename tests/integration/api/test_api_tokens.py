"""Tokens over REST: an admin lists, creates and revokes its tenant's tokens; expiry and
revocation answer 401 saying why; each token's last use is recorded. A real server."""

from __future__ import annotations

import time
from collections.abc import Callable

import httpx
from server_process import RunningServer, Tenant

from headrace.service.tokens import TokenService


def until_refused(http: httpx.Client, why: str) -> httpx.Response:
    """Poll ``/whoami`` until it answers 401 (a verified token is trusted for 2 s)."""
    deadline = time.monotonic() + 15
    while (answer := http.get("/whoami")).status_code == 200:
        assert time.monotonic() < deadline, f"the token still works: {why}"
        time.sleep(0.05)
    return answer


def test_an_admin_manages_its_tenants_tokens_only(
    server: RunningServer, tenant: Callable[[], Tenant]
) -> None:
    a, b = tenant(), tenant()
    admin = a.http("admin")
    made = admin.post("/tokens", json={"user": "carol", "role": "viewer", "expires_in": "1h"})
    assert made.status_code == 201, made.text
    record = made.json()["record"]
    assert record["tenant_id"] == a.tenant_id and record["role"] == "viewer"
    assert record["expires_at_ms"] - record["created_at_ms"] == 3600 * 1000
    carol = httpx.Client(
        base_url=server.url, headers={"Authorization": f"Bearer {made.json()['token']}"}
    )
    assert carol.get("/whoami").json()["user_name"] == "carol"
    listed = {t["token_id"]: t for t in admin.get("/tokens").json()["items"]}
    assert all(t["tenant_id"] == a.tenant_id for t in listed.values())
    assert listed[record["token_id"]]["last_used_at_ms"] is not None  # carol's request
    assert listed[record["token_id"]]["state"] == "live"
    # Another tenant's admin neither sees nor revokes it.
    other = b.http("admin")
    assert record["token_id"] not in {t["token_id"] for t in other.get("/tokens").json()["items"]}
    assert other.delete(f"/tokens/{record['token_id']}").status_code == 404
    for role in ("operator", "viewer"):
        assert a.http(role).get("/tokens").status_code == 403
        assert a.http(role).post("/tokens", json={"user": "x"}).status_code == 403
    revoked = admin.delete(f"/tokens/{record['token_id']}")
    assert revoked.status_code == 200 and revoked.json()["state"] == "revoked"
    refused = until_refused(carol, "revoked")
    assert "revoked" in refused.json()["detail"] and record["token_id"] in refused.json()["detail"]
    carol.close()


def test_an_expired_token_is_401_saying_so(
    server: RunningServer, token_service: TokenService
) -> None:
    token, record = token_service.create("expiring", "dan", "viewer", expires_in="1s")
    http = httpx.Client(base_url=server.url, headers={"Authorization": f"Bearer {token}"})
    refused = until_refused(http, "expired")
    assert refused.json()["detail"].startswith(f"token {record.token_id} expired at ")
    http.close()


def test_a_bad_token_request_is_refused_naming_the_field_and_creates_nothing(
    tenant: Callable[[], Tenant],
) -> None:
    admin = tenant().http("admin")
    before = admin.get("/tokens").json()["total"]
    for body, field in (
        ({"user": "x", "expires_in": "soon"}, "expires_in"),
        ({"user": "x", "expires_in": "0s"}, "expires_in"),
        ({"user": "x", "expires_in": "9999999w"}, "expires_in"),  # over ten years
        ({"user": "x", "role": "root"}, "role"),
        ({"user": "x\u0000"}, "user"),
        ({"user": "x", "tenant": "other"}, "tenant"),
    ):
        answer = admin.post("/tokens", json=body)
        assert answer.status_code == 422 and answer.json()["field"].endswith(field), answer.text
    assert admin.get("/tokens").json()["total"] == before
