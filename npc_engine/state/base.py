"""The ``StateStore`` seam: what the engine keeps between calls, per tenant.

It holds the knowledge catalog, the world and persona documents, and conversations
(messages, emotion and relationship with their event log, memories), support tickets,
API keys and staff sessions (:mod:`npc_engine.state.support_base`), and idempotency keys
(:mod:`npc_engine.state.idempotency_sql`). ``SqlStateStore`` implements it on SQLite (default) and PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol, runtime_checkable

from knowledge.catalog import Catalog
from npc_engine.state.idempotency_sql import IdempotencyStore
from npc_engine.state.records import (
    Conversation,
    ConversationKey,
    StoredMessage,
    TenantVersions,
    TurnWrite,
)
from npc_engine.state.support_base import AccessStore, TicketStore

__all__ = ["StateStore"]


@runtime_checkable
class StateStore(Catalog, TicketStore, AccessStore, IdempotencyStore, Protocol):
    async def ensure_tenant(self, tenant: str, name: str | None = None) -> None: ...

    async def world_digest(self, tenant: str) -> str | None: ...

    async def tenant_versions(self, tenant: str) -> TenantVersions: ...

    async def put_world(
        self,
        tenant: str,
        *,
        root: str,
        digest: str,
        world: dict[str, Any],
        persona_docs: Sequence[dict[str, Any]],
    ) -> None: ...

    async def get_world(self, tenant: str) -> dict[str, Any] | None: ...

    async def get_persona(self, tenant: str, persona_id: str) -> dict[str, Any] | None: ...

    async def list_personas(self, tenant: str) -> list[dict[str, Any]]: ...

    # -- conversations ----------------------------------------------------------------------
    async def load_conversation(self, key: ConversationKey, *, history_limit: int = 200) -> Conversation: ...

    async def commit_turn(self, write: TurnWrite) -> int:
        """Commit atomically if still at ``write.expected_version``; else ``ConflictError``."""
        ...

    async def begin_turn(
        self, key: ConversationKey, holder: str, *, now: float, ttl_s: float, history_limit: int = 200
    ) -> Conversation | None:
        """``acquire_lease`` and ``load_conversation`` in one round trip; ``None`` while the lease is busy."""
        ...

    async def acquire_lease(self, key: ConversationKey, holder: str, *, now: float, ttl_s: float) -> bool: ...

    async def renew_lease(self, key: ConversationKey, holder: str, *, now: float, ttl_s: float) -> bool: ...

    async def release_lease(self, key: ConversationKey, holder: str) -> None: ...

    async def affect_log(self, key: ConversationKey) -> list[dict[str, Any]]: ...

    async def list_messages(
        self, key: ConversationKey, *, limit: int = 50, before_seq: int | None = None
    ) -> list[StoredMessage]: ...

    async def forget_player(self, tenant: str, player_id: str) -> int: ...

    async def reset_conversation(self, key: ConversationKey) -> int:
        """Erase one (tenant, persona, player) conversation; returns rows deleted."""
        ...

    def close(self) -> None: ...
