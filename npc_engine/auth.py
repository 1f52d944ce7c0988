"""API keys, roles and staff console sessions.

A key belongs to one tenant and has one role; everything it reaches is that tenant's:

=========  =============================================================================
``game``   run turns and send game events, receive staff replies (:data:`ROLE_ALLOWS`)
``staff``  the ticket queue and the staff console
``admin``  everything in its tenant: the above, keys, the world and its knowledge
=========  =============================================================================

Secrets are ``npk_<key_id>_<43 characters>``: 32 bytes from :mod:`secrets`, URL-safe. Only
``sha256(secret)`` is stored, so a leaked database holds no usable key. A fast hash is enough
here, unlike for passwords: slow hashes (bcrypt, argon2) exist to make guessing a
*low-entropy* secret expensive, but a 256-bit random secret cannot be guessed at any hash
speed, and a fast hash keeps every request's check cheap. The key id inside the secret names
the key in logs and lets a revoked or mistyped secret be reported without storing it.

Console sessions work the same way: an opaque random token (the cookie) whose SHA-256 is
stored with an expiry; revoking the key ends its sessions.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import time
from dataclasses import dataclass
from typing import Literal, get_args

from npc_engine.errors import InvalidInputError, NotFoundError, PermissionDeniedError
from npc_engine.state.support_base import AccessStore, Role, StaffSession

__all__ = [
    "CAPABILITIES",
    "ROLES",
    "ROLE_ALLOWS",
    "SESSION_TTL_S",
    "Capability",
    "Principal",
    "Role",
    "create_key",
    "end_session",
    "hash_secret",
    "require",
    "session_principal",
    "start_session",
    "verify_key",
]

ROLES: tuple[Role, ...] = get_args(Role)

Capability = Literal["turns", "events", "replies", "tickets", "console", "keys", "world"]
CAPABILITIES: tuple[Capability, ...] = get_args(Capability)

ROLE_ALLOWS: dict[Role, frozenset[Capability]] = {
    "game": frozenset({"turns", "events", "replies"}),
    "staff": frozenset({"tickets", "console"}),
    "admin": frozenset(CAPABILITIES),
}
"""What each role may do within its own tenant."""

SESSION_TTL_S = 8 * 3600.0
_PREFIX = "npk_"


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is calling: the key's tenant (the only one it sees), role, name and id."""

    tenant: str
    role: Role
    name: str
    key_id: str


def hash_secret(secret: str) -> str:
    """The hex SHA-256 of a key secret or session token (what the store keeps)."""
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def _new_key_id() -> str:
    return "k" + base64.b32encode(secrets.token_bytes(10)).decode("ascii").lower()


def require(principal: Principal, capability: Capability) -> None:
    """Raise :class:`PermissionDeniedError` unless ``principal``'s role allows ``capability``."""
    if capability not in ROLE_ALLOWS.get(principal.role, frozenset()):
        raise PermissionDeniedError(
            f"a {principal.role} key cannot use {capability}; ask an admin of tenant "
            f"{principal.tenant!r} for a key with a role that can"
        )


async def create_key(
    state: AccessStore, *, tenant: str, role: str, name: str, now: float | None = None
) -> tuple[Principal, str]:
    """Create a key; returns it and its secret, which is shown this once and never stored."""
    if role not in ROLES:
        raise InvalidInputError(f"unknown role {role!r}; choose one of: {', '.join(ROLES)}")
    name = name.strip()
    if not name or len(name) > 200:
        raise InvalidInputError("a key needs a name of 1 to 200 characters (who or what uses it)")
    if not await state.tenant_exists(tenant):
        raise NotFoundError(f"no tenant {tenant!r}; create it first: npc-engine tenants create {tenant}")
    key_id = _new_key_id()
    secret = f"{_PREFIX}{key_id}_{secrets.token_urlsafe(32)}"
    await state.create_api_key(
        key_id=key_id,
        tenant=tenant,
        role=role,
        name=name,
        secret_hash=hash_secret(secret),
        now=time.time() if now is None else now,
    )
    return Principal(tenant, role, name, key_id), secret


async def verify_key(state: AccessStore, secret: str) -> Principal | None:
    """The key's principal; ``None`` for a malformed, unknown or revoked secret."""
    parts = secret.strip().split("_", 2)
    if len(parts) != 3 or f"{parts[0]}_" != _PREFIX:
        return None
    digest = hash_secret(secret.strip())
    key = await state.api_key(parts[1])
    # the comparison takes the same time wherever the digests differ
    if key is None or not hmac.compare_digest(key.secret_hash, digest) or key.revoked_at is not None:
        return None
    return Principal(key.tenant, key.role, key.name, key.key_id)


async def start_session(
    state: AccessStore, principal: Principal, ttl_s: float = SESSION_TTL_S, *, now: float | None = None
) -> str:
    """Start a console session for a staff or admin key; returns its token (the cookie value)."""
    require(principal, "console")
    now = time.time() if now is None else now
    token = secrets.token_urlsafe(32)
    await state.create_session(
        StaffSession(hash_secret(token), principal.key_id, principal.tenant, principal.name, now, now + ttl_s)
    )
    return token


async def session_principal(state: AccessStore, token: str, *, now: float | None = None) -> Principal | None:
    """The principal of a live session; ``None`` when unknown, expired or its key was revoked."""
    now = time.time() if now is None else now
    session = await state.session_by_hash(hash_secret(token), now=now)
    if session is None:
        return None
    key = await state.api_key(session.key_id)
    if key is None or key.revoked_at is not None or key.tenant != session.tenant:
        return None
    return Principal(key.tenant, key.role, session.staff, key.key_id)


async def end_session(state: AccessStore, token: str) -> None:
    """Sign out: the token stops working at once."""
    await state.delete_session(hash_secret(token))
