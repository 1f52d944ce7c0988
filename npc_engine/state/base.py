"""The ``StateStore`` seam: what the engine keeps between calls, per tenant.

Today it is the knowledge catalog plus the world and persona documents; conversations,
emotion, relationships, memories, tickets and idempotency keys join it as the engine
grows. ``SqlStateStore`` implements it on SQLite (default) and PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol, runtime_checkable

from knowledge.catalog import Catalog

__all__ = ["StateStore"]


@runtime_checkable
class StateStore(Catalog, Protocol):
    async def ensure_tenant(self, tenant: str, name: str | None = None) -> None: ...

    async def world_digest(self, tenant: str) -> str | None: ...

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

    def close(self) -> None: ...
