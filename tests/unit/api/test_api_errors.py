"""The error table: each Headrace error to its HTTP status, and back in the remote client."""

from __future__ import annotations

import httpx
import pytest

from headrace import errors
from headrace.api import problems
from headrace.api.server import ServerOptions, check, is_loopback
from headrace.client.remote import error_from
from headrace.service.tokens import Principal, TokenService, digest, identity

E = errors
#: (error, HTTP status, the class the remote client raises back).
CASES: list[tuple[errors.HeadraceError, int, type[errors.HeadraceError]]] = [
    (E.InvalidInput("params.a", "bad"), 422, E.InvalidInput),
    (E.PipelineDefinitionError("map", "bad"), 422, E.PipelineDefinitionError),
    (E.NotFound("job", "x"), 404, E.NotFound),
    (E.IllegalTransition("j", "completed", "canceled"), 409, E.IllegalTransition),
    (E.IllegalJobState("j", "completed", "canceled"), 409, E.IllegalTransition),
    (E.JobAlreadyExists("name taken"), 409, E.JobAlreadyExists),
    (E.Conflict("conflict"), 409, E.Conflict),
    (E.PermissionDenied("viewer"), 403, E.PermissionDenied),
    (E.Unauthenticated("no token"), 401, E.Unauthenticated),
    (E.TimeoutException("slow"), 504, E.TimeoutException),
    (E.StoreUnavailable("down"), 503, E.StoreUnavailable),
    (E.StoreClosed("sqlite:///x.db"), 503, E.StoreUnavailable),  # a server shutting down
    (E.StoreError("constraint"), 500, E.StoreError),
    (E.JobFailed("j", "failed", "boom"), 500, E.HeadraceError),
]


@pytest.mark.parametrize(
    ("exc", "status", "back_cls"), CASES, ids=[type(c[0]).__name__ for c in CASES]
)
def test_each_error_has_its_status_and_comes_back_as_its_class(
    exc: errors.HeadraceError, status: int, back_cls: type[errors.HeadraceError]
) -> None:
    assert problems.status_of(exc)[0] == status
    slug = problems.status_of(exc)[1]
    extra = {k: str(getattr(exc, k)) for k in problems.EXTENSIONS if hasattr(exc, k)}
    body = {"type": f"urn:headrace:problem:{slug}", "status": status, "detail": str(exc), **extra}
    back = error_from(httpx.Response(status, json=body))
    assert type(back) is back_cls
    assert str(back) == str(exc)
    for name, value in extra.items():
        if status < 500:  # a 500 is a bug: the client keeps only its message
            assert str(getattr(back, name)) == value


def test_problem_responses_name_the_field() -> None:
    response = problems.problem(422, "invalid-input", "limit: too big", field="limit")
    assert response.media_type == problems.MEDIA_TYPE and b'"field":"limit"' in response.body
    assert "www-authenticate" in problems.problem(401, "unauthenticated", "no").headers


def test_tenant_and_user_names_map_to_stable_uuids() -> None:
    assert identity("tenant", "acme") == identity("tenant", "acme")
    assert identity("tenant", "acme")[0] != identity("user", "acme")[0]
    assert identity("tenant", "default")[0] == "00000000-0000-0000-0000-000000000000"
    uid = "12345678-1234-5678-1234-567812345678"
    assert identity("user", uid.upper()) == (uid, uid.upper())
    with pytest.raises(errors.InvalidInput) as bad:
        identity("tenant", " ")
    assert bad.value.field == "tenant"


def test_roles_and_digests() -> None:
    assert Principal("t", "u", "operator").can_write and Principal("t", "u", "admin").can_write
    assert not Principal("t", "u", "viewer").can_write
    assert digest("hr_x") == digest("hr_x") != digest("hr_y") and len(digest("a")) == 64


def test_tokens_are_stored_only_as_hashes_and_revocable(tmp_path: object) -> None:
    from headrace.store.database import Store

    store = Store(f"sqlite:///{tmp_path}/t.db")
    service = TokenService(store)
    token, record = service.create("acme", "alice", "viewer")
    with store.read() as conn:
        stored = [tuple(r) for r in conn.exec_driver_sql("SELECT * FROM api_tokens")]
    assert token not in repr(stored) and digest(token) in repr(stored)
    assert service.authenticate(token).role == "viewer"
    with pytest.raises(errors.InvalidInput) as bad:
        service.create("acme", "alice", "root")
    assert bad.value.field == "role"
    service.revoke(record.token_id)
    with pytest.raises(errors.Unauthenticated):
        TokenService(store).authenticate(token)
    with pytest.raises(errors.NotFound):
        service.revoke(record.token_id)
    store.close()


def test_insecure_local_only_on_loopback() -> None:
    assert is_loopback("127.0.0.1") and is_loopback("::1") and is_loopback("localhost")
    assert not is_loopback("0.0.0.0") and not is_loopback("example.com")
    check(ServerOptions(host="127.0.0.1", insecure_local=True))
    with pytest.raises(errors.InvalidInput) as bad:
        check(ServerOptions(host="0.0.0.0", insecure_local=True))
    assert bad.value.field == "host"
    with pytest.raises(errors.InvalidInput):
        check(ServerOptions(workers=-1))
