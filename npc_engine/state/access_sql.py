"""API keys and staff sessions in SQL: only hashes of secrets are stored (see :mod:`npc_engine.auth`)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from sqlalchemy import delete, insert, select, update
from sqlalchemy.engine import Connection, RowMapping

from npc_engine.errors import NotFoundError
from npc_engine.state.support_base import ApiKey, Role, StaffSession
from npc_engine.state.tables import api_keys, staff_sessions, tenants

__all__ = ["AccessSql"]


def _key(row: RowMapping) -> ApiKey:
    return ApiKey(
        key_id=row["key_id"],
        tenant=row["tenant"],
        role=row["role"],
        name=row["name"],
        secret_hash=row["secret_hash"],
        created_at=row["created_at"],
        revoked_at=row["revoked_at"],
    )


class AccessSql:
    """Mixed into :class:`~npc_engine.state.store.SqlStateStore` (which provides ``_tx``)."""

    _tx: Callable[[Callable[[Connection], Any]], Awaitable[Any]]

    async def tenant_exists(self, tenant: str) -> bool:
        def fn(conn: Connection) -> bool:
            return conn.execute(select(tenants.c.id).where(tenants.c.id == tenant)).first() is not None

        result: bool = await self._tx(fn)
        return result

    async def create_api_key(
        self, *, key_id: str, tenant: str, role: Role, name: str, secret_hash: str, now: float
    ) -> ApiKey:
        key = ApiKey(key_id, tenant, role, name, secret_hash, now)

        def fn(conn: Connection) -> None:
            conn.execute(
                insert(api_keys).values(
                    key_id=key_id,
                    tenant=tenant,
                    role=role,
                    name=name,
                    secret_hash=secret_hash,
                    created_at=now,
                )
            )

        await self._tx(fn)
        return key

    async def _one_key(self, where: Any) -> ApiKey | None:
        def fn(conn: Connection) -> ApiKey | None:
            row = conn.execute(select(api_keys).where(where)).mappings().first()
            return None if row is None else _key(row)

        result: ApiKey | None = await self._tx(fn)
        return result

    async def api_key(self, key_id: str) -> ApiKey | None:
        return await self._one_key(api_keys.c.key_id == key_id)

    async def api_key_by_hash(self, secret_hash: str) -> ApiKey | None:
        return await self._one_key(api_keys.c.secret_hash == secret_hash)

    async def revoke_api_key(self, key_id: str, *, now: float) -> ApiKey:
        def fn(conn: Connection) -> ApiKey:
            conn.execute(
                update(api_keys)
                .where(api_keys.c.key_id == key_id, api_keys.c.revoked_at.is_(None))
                .values(revoked_at=now)
            )
            row = conn.execute(select(api_keys).where(api_keys.c.key_id == key_id)).mappings().first()
            if row is None:
                raise NotFoundError(f"no API key {key_id!r}; `npc-engine keys list --tenant T` shows them")
            conn.execute(delete(staff_sessions).where(staff_sessions.c.key_id == key_id))
            return _key(row)

        result: ApiKey = await self._tx(fn)
        return result

    async def list_api_keys(self, tenant: str) -> list[ApiKey]:
        def fn(conn: Connection) -> list[ApiKey]:
            query = select(api_keys).where(api_keys.c.tenant == tenant).order_by(api_keys.c.created_at)
            return [_key(r) for r in conn.execute(query).mappings()]

        result: list[ApiKey] = await self._tx(fn)
        return result

    async def create_session(self, session: StaffSession) -> None:
        """Store ``session`` (and drop sessions that have expired by now)."""

        def fn(conn: Connection) -> None:
            conn.execute(delete(staff_sessions).where(staff_sessions.c.expires_at <= session.created_at))
            conn.execute(
                insert(staff_sessions).values(
                    token_hash=session.token_hash,
                    key_id=session.key_id,
                    tenant=session.tenant,
                    staff=session.staff,
                    created_at=session.created_at,
                    expires_at=session.expires_at,
                )
            )

        await self._tx(fn)

    async def session_by_hash(self, token_hash: str, *, now: float) -> StaffSession | None:
        def fn(conn: Connection) -> StaffSession | None:
            row = (
                conn.execute(
                    select(staff_sessions).where(
                        staff_sessions.c.token_hash == token_hash, staff_sessions.c.expires_at > now
                    )
                )
                .mappings()
                .first()
            )
            if row is None:
                return None
            return StaffSession(
                row["token_hash"],
                row["key_id"],
                row["tenant"],
                row["staff"],
                row["created_at"],
                row["expires_at"],
            )

        result: StaffSession | None = await self._tx(fn)
        return result

    async def delete_session(self, token_hash: str) -> bool:
        def fn(conn: Connection) -> bool:
            done = conn.execute(delete(staff_sessions).where(staff_sessions.c.token_hash == token_hash))
            return bool(done.rowcount)

        result: bool = await self._tx(fn)
        return result
