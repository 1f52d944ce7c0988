"""API keys, roles and console sessions, on SQLite and on the real PostgreSQL."""

from __future__ import annotations

import hashlib
import uuid

import pytest
from sqlalchemy import select

from npc_engine.auth import (
    CAPABILITIES,
    ROLE_ALLOWS,
    Capability,
    Principal,
    create_key,
    end_session,
    require,
    session_principal,
    start_session,
    verify_key,
)
from npc_engine.errors import (
    AuthenticationError,
    InvalidInputError,
    NotFoundError,
    PermissionDeniedError,
    UsageError,
)
from npc_engine.state.store import SqlStateStore
from npc_engine.state.tables import api_keys, staff_sessions


@pytest.fixture
async def tenant(store: SqlStateStore) -> str:
    name = f"g-{uuid.uuid4().hex[:10]}"
    await store.ensure_tenant(name)
    return name


async def test_a_key_is_shown_once_and_only_its_hash_is_stored(store: SqlStateStore, tenant: str) -> None:
    principal, secret = await create_key(store, tenant=tenant, role="staff", name="alice")
    assert secret.startswith(f"npk_{principal.key_id}_") and len(secret) > 48
    with store.engine.connect() as conn:
        row = conn.execute(select(api_keys).where(api_keys.c.key_id == principal.key_id)).mappings().one()
    assert row["secret_hash"] == hashlib.sha256(secret.encode()).hexdigest()
    assert all(secret not in str(value) for value in row.values())
    listed = await store.list_api_keys(tenant)
    assert [(k.key_id, k.role, k.name) for k in listed] == [(principal.key_id, "staff", "alice")]


async def test_the_right_secret_is_verified_and_anything_else_is_refused(
    store: SqlStateStore, tenant: str
) -> None:
    principal, secret = await create_key(store, tenant=tenant, role="game", name="game server")
    assert await verify_key(store, secret) == Principal(tenant, "game", "game server", principal.key_id)
    assert await store.api_key_by_hash(hashlib.sha256(secret.encode()).hexdigest()) is not None
    _, other = await create_key(store, tenant=tenant, role="game", name="other")
    wrong = [
        secret[:-1] + ("A" if secret[-1] != "A" else "B"),  # one character off
        f"npk_{principal.key_id}_{other.split('_', 2)[2]}",  # another key's random part
        "",
        "npk_",
        "Bearer " + secret,
    ]
    for attempt in wrong:
        assert await verify_key(store, attempt) is None


async def test_a_revoked_key_is_refused(store: SqlStateStore, tenant: str) -> None:
    principal, secret = await create_key(store, tenant=tenant, role="admin", name="ops")
    revoked = await store.revoke_api_key(principal.key_id, now=5.0)
    assert revoked.revoked_at == 5.0
    assert await verify_key(store, secret) is None
    with pytest.raises(NotFoundError):
        await store.revoke_api_key("k-unknown", now=5.0)


async def test_a_key_needs_a_known_tenant_a_role_and_a_name(store: SqlStateStore, tenant: str) -> None:
    with pytest.raises(NotFoundError, match="tenants create"):
        await create_key(store, tenant="no-such-game", role="game", name="x")
    with pytest.raises(InvalidInputError, match="game, staff, admin"):
        await create_key(store, tenant=tenant, role="root", name="x")
    with pytest.raises(InvalidInputError):
        await create_key(store, tenant=tenant, role="game", name="  ")


def test_each_role_is_allowed_only_its_part() -> None:
    game, staff, admin = (Principal("g", role, "n", "k") for role in ("game", "staff", "admin"))
    require(game, "turns")
    require(staff, "tickets")
    for capability in CAPABILITIES:
        require(admin, capability)
    denied: list[tuple[Principal, Capability]] = [
        (game, "tickets"),
        (game, "console"),
        (staff, "turns"),
        (staff, "keys"),
    ]
    for principal, refused in denied:
        with pytest.raises(PermissionDeniedError) as err:
            require(principal, refused)
        assert err.value.code == "forbidden"
    assert ROLE_ALLOWS["admin"] >= ROLE_ALLOWS["staff"] | ROLE_ALLOWS["game"]


def test_auth_errors_have_stable_codes_under_usage_error() -> None:
    assert AuthenticationError("x").code == "unauthenticated"
    assert PermissionDeniedError("x").code == "forbidden"
    assert issubclass(AuthenticationError, UsageError) and issubclass(PermissionDeniedError, UsageError)


async def test_a_session_lasts_until_it_expires_or_ends(store: SqlStateStore, tenant: str) -> None:
    principal, _ = await create_key(store, tenant=tenant, role="staff", name="alice")
    token = await start_session(store, principal, ttl_s=60, now=1000.0)
    assert await session_principal(store, token, now=1059.0) == principal
    assert await session_principal(store, token, now=1060.0) is None
    assert await session_principal(store, "not-a-token", now=1000.0) is None
    live = await start_session(store, principal, ttl_s=60, now=2000.0)
    with store.engine.connect() as conn:
        hashes = [h for (h,) in conn.execute(select(staff_sessions.c.token_hash))]
    assert hashlib.sha256(live.encode()).hexdigest() in hashes and live not in hashes
    await end_session(store, live)
    assert await session_principal(store, live, now=2001.0) is None


async def test_revoking_a_key_ends_its_sessions(store: SqlStateStore, tenant: str) -> None:
    principal, _ = await create_key(store, tenant=tenant, role="admin", name="ops")
    token = await start_session(store, principal, now=1000.0)
    await store.revoke_api_key(principal.key_id, now=1001.0)
    assert await session_principal(store, token, now=1002.0) is None


async def test_a_game_key_cannot_open_a_console_session(store: SqlStateStore, tenant: str) -> None:
    principal, _ = await create_key(store, tenant=tenant, role="game", name="server")
    with pytest.raises(PermissionDeniedError):
        await start_session(store, principal)
