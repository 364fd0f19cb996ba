"""Tenants, users and API tokens: create a token once, keep only its hash, authenticate.

A tenant or user is named by a UUID or by a name; a name maps to a stable UUID (uuid5),
and the name ``default`` is the embedded client's tenant and user.
"""

from __future__ import annotations

import datetime
import hashlib
import secrets
import threading
import time
import uuid
from dataclasses import dataclass

from headrace import defaults, errors
from headrace.model.clock import now_ms
from headrace.store.database import Store
from headrace.store.tokens import TokenRecord, TokenRepository

#: Roles, weakest first: a viewer reads, an operator also writes, an admin does all.
ROLES = ("viewer", "operator", "admin")
#: Namespace of the UUIDs that tenant and user names map to.
NAMESPACE = uuid.UUID("5b0d3c52-4e0a-4c1b-9d63-8f1f6b0e2a11")
#: Every token starts with this, so a leaked one is easy to recognise.
PREFIX = "hr_"
#: How long a verified token is trusted without asking the store again (revocation delay).
CACHE_SEC = 2.0
#: A token's last use is recorded to this step: at most one write per token this often.
LAST_USE_STEP_SEC = 60.0
#: Units of ``--expires-in`` (``30d``, ``12h``, ``15m``, ``90s``), in seconds.
UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}
#: Longest expiry a token may be given (ten years).
MAX_EXPIRY_SEC = 10 * 365 * 86400


def parse_duration(field: str, value: str | float) -> float:
    """Seconds from ``30d``, ``12h``, ``15m``, ``90s``, ``2w`` or a plain number of seconds.

    Raises:
        InvalidInput: naming ``field`` for anything else, zero, or over ten years.
    """
    text = str(value).strip().lower()
    unit = UNITS.get(text[-1:], 0)
    number = text[:-1] if unit else text
    try:
        seconds = float(number) * (unit or 1)
    except ValueError:
        seconds = -1.0
    if not 0 < seconds <= MAX_EXPIRY_SEC:
        msg = f"must be a duration such as 30d, 12h, 15m or 90s (up to 10 years), got {value!r}"
        raise errors.InvalidInput(field, msg)
    return seconds


def state_of(record: TokenRecord, at_ms: int) -> str:
    """``live``, ``revoked`` or ``expired``."""
    if record.revoked_at_ms is not None:
        return "revoked"
    if record.expires_at_ms is not None and record.expires_at_ms <= at_ms:
        return "expired"
    return "live"


@dataclass(frozen=True, slots=True)
class Principal:
    """Who a request acts as: the tenant and user a token grants, and its role."""

    tenant_id: str
    user_id: str
    role: str
    tenant_name: str = "default"
    user_name: str = "default"

    @property
    def can_write(self) -> bool:
        """Whether this principal may change anything (operators and admins)."""
        return self.role in ("operator", "admin")


#: Who an ``--insecure-local`` server serves: the default tenant, as an admin.
LOCAL = Principal(defaults.TENANT_ID, defaults.USER_ID, "admin")


def identity(field: str, value: str) -> tuple[str, str]:
    """The ``(uuid, name)`` of a tenant or user given by UUID or by name.

    Raises:
        InvalidInput: for an empty or over-long name.
    """
    text = str(value).strip()
    if not text or len(text) > 255:
        raise errors.InvalidInput(field, "must be a UUID or a name of 1..255 characters")
    if text == "default":
        return defaults.TENANT_ID if field == "tenant" else defaults.USER_ID, text
    try:
        return str(uuid.UUID(text)), text
    except ValueError:
        return str(uuid.uuid5(NAMESPACE, f"{field}:{text}")), text


def digest(token: str) -> str:
    """The SHA-256 (hex) under which a token is stored."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


class TokenService:
    """Creates, lists, revokes and verifies API tokens."""

    def __init__(self, store: Store) -> None:
        self.repo = TokenRepository(store)
        self._cache: dict[str, tuple[float, Principal]] = {}
        self._lock = threading.Lock()

    def create(
        self, tenant: str, user: str, role: str, expires_in: str | float | None = None
    ) -> tuple[str, TokenRecord]:
        """A new token for ``user`` of ``tenant`` with ``role``; the token is not kept.

        ``expires_in`` (``30d``, ``12h``, seconds) makes it stop working that much later.

        Returns:
            The token (shown once) and its stored record.

        Raises:
            InvalidInput: naming ``tenant``, ``user``, ``role`` or ``expires_in``.
        """
        if role not in ROLES:
            raise errors.InvalidInput("role", f"must be one of {', '.join(ROLES)}, got {role!r}")
        tenant_id, tenant_name = identity("tenant", tenant)
        user_id, user_name = identity("user", user)
        lifetime = None if expires_in is None else parse_duration("expires_in", expires_in)
        token = PREFIX + secrets.token_urlsafe(32)
        created = now_ms()
        record = TokenRecord(
            token_id=str(uuid.uuid4()),
            tenant_id=tenant_id,
            user_id=user_id,
            tenant_name=tenant_name,
            user_name=user_name,
            role=role,
            created_at_ms=created,
            revoked_at_ms=None,
            expires_at_ms=None if lifetime is None else created + int(lifetime * 1000),
        )
        self.repo.insert(record, digest(token))
        return token, record

    def cached(self, token: str) -> Principal | None:
        """The principal ``authenticate`` granted ``token`` in the last ``CACHE_SEC``, if any.

        No database access: the API answers a known token without leaving its event loop.
        """
        with self._lock:
            hit = self._cache.get(digest(token))
        return hit[1] if hit is not None and hit[0] > time.monotonic() else None

    def authenticate(self, token: str | None) -> Principal:
        """The principal a bearer token grants; records the token's use.

        Raises:
            Unauthenticated: no token, or an unknown, revoked or expired one (saying which).
        """
        if not token:
            msg = "missing bearer token (Authorization: Bearer ...)"
            raise errors.Unauthenticated(msg)
        hit = self.cached(token)
        if hit is not None:
            return hit
        key = digest(token)
        now = time.monotonic()
        record = self.repo.find(key)
        at = now_ms()
        if record is None:
            msg = "unknown token"
            raise errors.Unauthenticated(msg)
        state = state_of(record, at)
        if state != "live":
            when = record.revoked_at_ms if state == "revoked" else record.expires_at_ms
            msg = f"token {record.token_id} {state} at {_iso(when)}"
            raise errors.Unauthenticated(msg)
        last = record.last_used_at_ms
        if last is None or at - last >= LAST_USE_STEP_SEC * 1000:
            self.repo.mark_used(record.token_id, at)
        principal = Principal(
            record.tenant_id, record.user_id, record.role, record.tenant_name, record.user_name
        )
        # Trusted for CACHE_SEC, never past its expiry.
        until = now + CACHE_SEC
        if record.expires_at_ms is not None:
            until = min(until, now + (record.expires_at_ms - at) / 1000)
        with self._lock:
            if len(self._cache) > 10_000:
                self._cache.clear()
            self._cache[key] = (until, principal)
        return principal

    def list(self, tenant: str | None = None) -> list[TokenRecord]:
        """Every token record, of one tenant if given (by UUID or name)."""
        return self.repo.list(None if tenant is None else identity("tenant", tenant)[0])

    def revoke(self, token_id: str, tenant: str | None = None) -> None:
        """Revoke a token by its id (effective within ``CACHE_SEC``), of ``tenant`` if given.

        Raises:
            NotFound: no live token (of that tenant) has that id.
        """
        tenant_id = None if tenant is None else identity("tenant", tenant)[0]
        try:
            found = self.repo.revoke(str(uuid.UUID(str(token_id))), tenant_id)
        except ValueError:
            found = False
        if not found:
            raise errors.NotFound("token", token_id)


def _iso(at_ms: int | None) -> str:
    """A time in ms as ISO 8601 UTC, to the second."""
    moment = datetime.datetime.fromtimestamp((at_ms or 0) / 1000, datetime.UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")
