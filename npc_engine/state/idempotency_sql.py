"""Idempotency keys in SQL: a retried request gets the first request's answer.

The protocol, per ``(tenant, key)``:

1. :meth:`IdempotencySql.claim_idempotency` inserts a *running* row with the request's
   fingerprint. The insert is the claim: on SQLite and PostgreSQL alike, of two workers
   racing on one key exactly one insert succeeds, so the turn runs once.
2. The winner runs the request, then :meth:`~IdempotencySql.finish_idempotency` stores the
   status and body. A request that failed before it changed anything calls
   :meth:`~IdempotencySql.release_idempotency` instead, so a retry runs it afresh.
3. A loser gets the stored row: finished (replay it), a different fingerprint (the caller
   reused a key for another request: 409), or still running (409, retry later). The owner
   renews ``locked_until`` while it works (:meth:`~IdempotencySql.renew_idempotency`), so a
   running row whose ``locked_until`` has passed belonged to a worker that died; the next
   claim takes it over.

A turn (or a claim) stores its answer in the same transaction as its work, with
:func:`store_receipt`: then a worker killed after the commit leaves a finished key, and one
killed before it leaves nothing done.

Rows older than the retention (24 hours by default, like Stripe's) are purged by
:meth:`~IdempotencySql.purge_idempotency`, which the server calls now and then.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

from sqlalchemy import delete, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Connection

from npc_engine.state.records import Receipt
from npc_engine.state.tables import idempotency_keys

__all__ = ["IdempotencyRecord", "IdempotencySql", "IdempotencyStore", "store_receipt"]


@dataclass(frozen=True, slots=True)
class IdempotencyRecord:
    """What another request with the same key left: its fingerprint and, once done, its answer."""

    request_hash: str
    status_code: int | None  # None while the first request still runs
    response: str | None
    created_at: float

    @property
    def done(self) -> bool:
        return self.status_code is not None


def store_receipt(conn: Connection, receipt: Receipt) -> None:
    """Finish the key with the request's answer, in the caller's transaction."""
    conn.execute(
        update(idempotency_keys)
        .where(idempotency_keys.c.tenant == receipt.tenant, idempotency_keys.c.key == receipt.key)
        .values(status_code=receipt.status_code, response=receipt.response)
    )


@runtime_checkable
class IdempotencyStore(Protocol):
    async def claim_idempotency(
        self, tenant: str, key: str, request_hash: str, *, now: float, lock_s: float
    ) -> IdempotencyRecord | None:
        """``None``: the caller owns the key and runs the request; else what holds the key."""
        ...

    async def renew_idempotency(self, tenant: str, key: str, *, now: float, lock_s: float) -> None:
        """Extend a running claim (its worker's heartbeat)."""
        ...

    async def finish_idempotency(self, tenant: str, key: str, *, status_code: int, response: str) -> None: ...

    async def release_idempotency(self, tenant: str, key: str) -> None: ...

    async def purge_idempotency(self, *, before: float) -> int: ...


class IdempotencySql:
    """Mixed into :class:`~npc_engine.state.store.SqlStateStore` (which provides ``_tx``)."""

    _tx: Callable[[Callable[[Connection], Any]], Awaitable[Any]]

    async def claim_idempotency(
        self, tenant: str, key: str, request_hash: str, *, now: float, lock_s: float
    ) -> IdempotencyRecord | None:
        where = (idempotency_keys.c.tenant == tenant, idempotency_keys.c.key == key)

        def fn(conn: Connection) -> IdempotencyRecord | None:
            # take over a dead worker's claim first (write first: SQLite cannot upgrade a read lock)
            taken = conn.execute(
                update(idempotency_keys)
                .where(
                    *where,
                    idempotency_keys.c.status_code.is_(None),
                    idempotency_keys.c.request_hash == request_hash,
                    idempotency_keys.c.locked_until < now,
                )
                .values(locked_until=now + lock_s)
            )
            if taken.rowcount == 1:
                return None
            dialect_insert = sqlite_insert if conn.dialect.name == "sqlite" else pg_insert
            claimed = conn.execute(
                dialect_insert(idempotency_keys)
                .values(
                    tenant=tenant,
                    key=key,
                    request_hash=request_hash,
                    created_at=now,
                    locked_until=now + lock_s,
                )
                .on_conflict_do_nothing()
                .returning(idempotency_keys.c.key)  # rowcount is -1 here on psycopg 3
            ).first()
            if claimed is not None:
                return None
            row = conn.execute(select(idempotency_keys).where(*where)).mappings().one()
            return IdempotencyRecord(
                row["request_hash"], row["status_code"], row["response"], row["created_at"]
            )

        result: IdempotencyRecord | None = await self._tx(fn)
        return result

    async def renew_idempotency(self, tenant: str, key: str, *, now: float, lock_s: float) -> None:
        def fn(conn: Connection) -> None:
            conn.execute(
                update(idempotency_keys)
                .where(
                    idempotency_keys.c.tenant == tenant,
                    idempotency_keys.c.key == key,
                    idempotency_keys.c.status_code.is_(None),
                )
                .values(locked_until=now + lock_s)
            )

        await self._tx(fn)

    async def finish_idempotency(self, tenant: str, key: str, *, status_code: int, response: str) -> None:
        receipt = Receipt(tenant, key, status_code, response)
        await self._tx(lambda conn: store_receipt(conn, receipt))

    async def release_idempotency(self, tenant: str, key: str) -> None:
        def fn(conn: Connection) -> None:
            conn.execute(
                delete(idempotency_keys).where(
                    idempotency_keys.c.tenant == tenant,
                    idempotency_keys.c.key == key,
                    idempotency_keys.c.status_code.is_(None),
                )
            )

        await self._tx(fn)

    async def purge_idempotency(self, *, before: float) -> int:
        def fn(conn: Connection) -> int:
            done = conn.execute(delete(idempotency_keys).where(idempotency_keys.c.created_at < before))
            return done.rowcount or 0

        result: int = await self._tx(fn)
        return result
