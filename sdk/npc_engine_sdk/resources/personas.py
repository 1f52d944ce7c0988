"""``client.personas``: the tenant's personas (needs an ``admin`` key)."""

from __future__ import annotations

import builtins
from typing import Any

from .._request import Call, segment
from ..types import PersonaSummary
from ._common import AsyncResource, SyncResource

__all__ = ["AsyncPersonas", "Personas"]

_LIST = Call(op="personas.list", method="GET", path="/v1/personas")


def _get_call(persona_id: str) -> Call:
    return Call(
        op="personas.get",
        method="GET",
        path=f"/v1/personas/{segment(persona_id)}",
        args={"persona_id": persona_id},
    )


def _summaries(data: Any) -> builtins.list[PersonaSummary]:
    return [PersonaSummary.model_validate(p) for p in (data or {}).get("personas", [])]


class Personas(SyncResource):
    def list(self) -> builtins.list[PersonaSummary]:
        """Every persona of the tenant's world: id, kind (``npc`` or ``support``) and name."""
        return _summaries(self._backend.request(_LIST))

    def get(self, persona_id: str) -> dict[str, Any]:
        """The persona document, as ingested."""
        data: dict[str, Any] = self._backend.request(_get_call(persona_id))
        return data


class AsyncPersonas(AsyncResource):
    async def list(self) -> builtins.list[PersonaSummary]:
        """Every persona of the tenant's world: id, kind (``npc`` or ``support``) and name."""
        return _summaries(await self._backend.request(_LIST))

    async def get(self, persona_id: str) -> dict[str, Any]:
        """The persona document, as ingested."""
        data: dict[str, Any] = await self._backend.request(_get_call(persona_id))
        return data
