"""API tokens over REST: an admin lists, creates and revokes its own tenant's tokens.

The CLI (``headrace tokens``) does the same against the store for any tenant; over the
API a token never reaches beyond its tenant, and only an admin's token manages tokens.
"""

from __future__ import annotations

from typing import Annotated, Literal

import pydantic
from fastapi import APIRouter, Path

from headrace.api import problems
from headrace.api.auth import Admin, State
from headrace.model import text
from headrace.model.clock import now_ms
from headrace.service.tokens import state_of
from headrace.store.tokens import TokenRecord

router = APIRouter(tags=["tokens"])
authed = problems.responses(401, 403, 422, 503)


class TokenOut(pydantic.BaseModel):
    """A stored token: who it grants what, since and until when, last used when."""

    token_id: str
    tenant_id: str
    user_id: str
    tenant_name: str
    user_name: str
    role: str
    state: Literal["live", "revoked", "expired"]
    created_at_ms: int
    revoked_at_ms: int | None
    expires_at_ms: int | None
    last_used_at_ms: int | None


class TokenIn(pydantic.BaseModel):
    """The body of ``POST /tokens``: a user of the caller's tenant, a role, an expiry."""

    model_config = pydantic.ConfigDict(extra="forbid")

    user: str = pydantic.Field(min_length=1, max_length=255)
    role: Literal["viewer", "operator", "admin"] = "operator"
    #: ``30d``, ``12h``, ``15m``, ``90s`` or seconds; None: never expires.
    expires_in: str | None = pydantic.Field(
        default=None, max_length=32, pattern=r"^\s*[0-9]+(\.[0-9]+)?\s*[smhdwSMHDW]?\s*$"
    )


class TokenCreated(pydantic.BaseModel):
    """A new token, shown only in this answer, and its record."""

    token: str
    record: TokenOut


class TokenList(pydantic.BaseModel):
    """The tenant's tokens, oldest first."""

    items: list[TokenOut]
    total: int


def _out(record: TokenRecord, at_ms: int) -> TokenOut:
    fields = {name: getattr(record, name) for name in TokenRecord.__slots__}
    return TokenOut(**fields, state=state_of(record, at_ms))  # type: ignore[arg-type]


@router.get("/tokens", response_model=TokenList, responses=authed)
def list_tokens(who: Admin, state: State) -> TokenList:
    """The tenant's tokens with their state, expiry and last use (never the tokens)."""
    at = now_ms()
    found = [_out(r, at) for r in state.tokens.list(who.tenant_id)]
    return TokenList(items=found, total=len(found))


@router.post("/tokens", status_code=201, response_model=TokenCreated, responses=authed)
def create_token(body: TokenIn, who: Admin, state: State) -> TokenCreated:
    """A new token for a user of the caller's tenant; the token is shown only here."""
    user = text.check_text("user", body.user, 255)
    token, record = state.tokens.create(who.tenant_id, user, body.role, body.expires_in)
    return TokenCreated(token=token, record=_out(record, now_ms()))


@router.delete(
    "/tokens/{token_id}", response_model=TokenOut, responses=problems.responses(401, 403, 404)
)
def revoke_token(
    token_id: Annotated[str, Path(pattern=text.UUID_PATTERN)], who: Admin, state: State
) -> TokenOut:
    """Revoke one of the tenant's tokens (another tenant's is 404); it stops within 2 s."""
    state.tokens.revoke(token_id, who.tenant_id)
    at = now_ms()
    (record,) = [r for r in state.tokens.list(who.tenant_id) if r.token_id == token_id]
    return _out(record, at)
