"""API tokens as stored: the SHA-256 of each token and the tenant, user and role it grants."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import RowMapping, select, update

from headrace.model.clock import now_ms
from headrace.store import tables
from headrace.store.database import Store

T = tables.api_tokens


@dataclass(frozen=True, slots=True)
class TokenRecord:
    """One stored token (never the token itself)."""

    token_id: str
    tenant_id: str
    user_id: str
    tenant_name: str
    user_name: str
    role: str
    created_at_ms: int
    revoked_at_ms: int | None
    #: When it stops working; None: never.
    expires_at_ms: int | None = None
    #: When a request last used it (to about a minute); None: never used.
    last_used_at_ms: int | None = None


def _record(row: RowMapping) -> TokenRecord:
    return TokenRecord(
        token_id=str(row["token_id"]),
        tenant_id=str(row["tenant_id"]),
        user_id=str(row["user_id"]),
        tenant_name=row["tenant_name"],
        user_name=row["user_name"],
        role=row["role"],
        created_at_ms=row["created_at_ms"],
        revoked_at_ms=row["revoked_at_ms"],
        expires_at_ms=row["expires_at_ms"],
        last_used_at_ms=row["last_used_at_ms"],
    )


class TokenRepository:
    """Inserts, finds, revokes and marks the use of token records."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def insert(self, record: TokenRecord, token_hash: str) -> None:
        """Store a new token's record under its hash."""
        row = {
            "token_id": record.token_id,
            "token_hash": token_hash,
            "tenant_id": record.tenant_id,
            "user_id": record.user_id,
            "tenant_name": record.tenant_name,
            "user_name": record.user_name,
            "role": record.role,
            "created_at_ms": record.created_at_ms,
            "revoked_at_ms": record.revoked_at_ms,
            "expires_at_ms": record.expires_at_ms,
            "last_used_at_ms": record.last_used_at_ms,
        }
        with self.store.write() as conn:
            conn.execute(T.insert().values(row))

    def find(self, token_hash: str) -> TokenRecord | None:
        """The token with this hash, revoked or expired too (the caller says why), or None."""
        with self.store.read() as conn:
            row = conn.execute(select(T).where(T.c.token_hash == token_hash)).mappings().first()
        return None if row is None else _record(row)

    def list(self, tenant_id: str | None = None) -> list[TokenRecord]:
        """Every token record (of one tenant, if given), oldest first."""
        stmt = select(T).order_by(T.c.created_at_ms, T.c.token_id)
        if tenant_id is not None:
            stmt = stmt.where(T.c.tenant_id == tenant_id)
        with self.store.read() as conn:
            return [_record(r) for r in conn.execute(stmt).mappings()]

    def revoke(self, token_id: str, tenant_id: str | None = None) -> bool:
        """Revoke a token (of one tenant, if given); whether a live token with that id existed."""
        stmt = update(T).where(T.c.token_id == token_id, T.c.revoked_at_ms.is_(None))
        if tenant_id is not None:
            stmt = stmt.where(T.c.tenant_id == tenant_id)
        with self.store.write() as conn:
            done = conn.execute(stmt.values(revoked_at_ms=now_ms())).rowcount
        return bool(done == 1)

    def mark_used(self, token_id: str, at_ms: int) -> None:
        """Record that a request used the token at ``at_ms``."""
        with self.store.write() as conn:
            conn.execute(update(T).where(T.c.token_id == token_id).values(last_used_at_ms=at_ms))
