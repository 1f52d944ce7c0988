"""``client.npcs``: NPC turns (plain and streamed), game events, and conversations."""

from __future__ import annotations

from typing import Any

from .._request import Call, segment
from .._streaming import AsyncTurnStream, TurnStream
from ..types import ConversationView, EventOutcome, NpcReply, PlayerLike
from ._common import AsyncResource, SyncResource, player_body, turn_call

__all__ = ["AsyncNpcs", "Npcs"]


def _event_call(
    persona_id: str,
    player: PlayerLike,
    event: str | dict[str, Any],
    magnitude: float | None,
    idempotency_key: str | None,
) -> Call:
    happened: dict[str, Any] = {"type": event} if isinstance(event, str) else dict(event)
    if magnitude is not None:
        happened["magnitude"] = magnitude
    who = player_body(player)
    return Call(
        op="npcs.event",
        method="POST",
        path=f"/v1/npcs/{segment(persona_id)}/events",
        args={"persona_id": persona_id, "player": who, "event": happened},
        json={"player": who, "event": happened},
        idempotent=True,
        idempotency_key=idempotency_key,
    )


def _conversation_path(persona_id: str, player_id: str) -> str:
    return f"/v1/npcs/{segment(persona_id)}/conversations/{segment(player_id)}"


def _conversation_call(persona_id: str, player_id: str, limit: int, before: int | None) -> Call:
    return Call(
        op="npcs.conversation",
        method="GET",
        path=_conversation_path(persona_id, player_id),
        args={"persona_id": persona_id, "player_id": player_id, "limit": limit, "before": before},
        params={"limit": limit, "before": before},
    )


def _reset_call(persona_id: str, player_id: str) -> Call:
    return Call(
        op="npcs.reset",
        method="DELETE",
        path=_conversation_path(persona_id, player_id),
        args={"persona_id": persona_id, "player_id": player_id},
    )


class Npcs(SyncResource):
    def turn(
        self,
        persona_id: str,
        *,
        player: PlayerLike,
        text: str,
        locale: str | None = None,
        debug: bool = False,
        idempotency_key: str | None = None,
    ) -> NpcReply:
        """The player says ``text`` to the NPC ``persona_id``; the NPC's reply."""
        call = turn_call(
            "npcs",
            persona_id,
            player=player,
            text=text,
            locale=locale,
            debug=debug,
            idempotency_key=idempotency_key,
            stream=False,
        )
        return NpcReply.model_validate(self._backend.request(call))

    def stream(
        self,
        persona_id: str,
        *,
        player: PlayerLike,
        text: str,
        locale: str | None = None,
        debug: bool = False,
        idempotency_key: str | None = None,
    ) -> TurnStream[NpcReply]:
        """Like :meth:`turn`, streamed: ``TurnDelta`` pieces, then the ``NpcReply``."""
        call = turn_call(
            "npcs",
            persona_id,
            player=player,
            text=text,
            locale=locale,
            debug=debug,
            idempotency_key=idempotency_key,
            stream=True,
        )
        return TurnStream(self._backend.stream(call), NpcReply)

    def event(
        self,
        persona_id: str,
        *,
        player: PlayerLike,
        event: str | dict[str, Any],
        magnitude: float | None = None,
        idempotency_key: str | None = None,
    ) -> EventOutcome:
        """A game event (``"gift_received"`` or ``{"type", "magnitude"}``) for the NPC."""
        call = _event_call(persona_id, player, event, magnitude, idempotency_key)
        return EventOutcome.model_validate(self._backend.request(call))

    def conversation(
        self, persona_id: str, player_id: str, *, limit: int = 50, before: int | None = None
    ) -> ConversationView:
        """The NPC's conversation with the player: state, memories, the newest ``limit`` messages."""
        call = _conversation_call(persona_id, player_id, limit, before)
        return ConversationView.model_validate(self._backend.request(call))

    def reset(self, persona_id: str, player_id: str) -> None:
        """Forget everything the NPC keeps about the player."""
        self._backend.request(_reset_call(persona_id, player_id))


class AsyncNpcs(AsyncResource):
    async def turn(
        self,
        persona_id: str,
        *,
        player: PlayerLike,
        text: str,
        locale: str | None = None,
        debug: bool = False,
        idempotency_key: str | None = None,
    ) -> NpcReply:
        """The player says ``text`` to the NPC ``persona_id``; the NPC's reply."""
        call = turn_call(
            "npcs",
            persona_id,
            player=player,
            text=text,
            locale=locale,
            debug=debug,
            idempotency_key=idempotency_key,
            stream=False,
        )
        return NpcReply.model_validate(await self._backend.request(call))

    def stream(
        self,
        persona_id: str,
        *,
        player: PlayerLike,
        text: str,
        locale: str | None = None,
        debug: bool = False,
        idempotency_key: str | None = None,
    ) -> AsyncTurnStream[NpcReply]:
        """Like :meth:`turn`, streamed: ``TurnDelta`` pieces, then the ``NpcReply``."""
        call = turn_call(
            "npcs",
            persona_id,
            player=player,
            text=text,
            locale=locale,
            debug=debug,
            idempotency_key=idempotency_key,
            stream=True,
        )
        return AsyncTurnStream(self._backend.stream(call), NpcReply)

    async def event(
        self,
        persona_id: str,
        *,
        player: PlayerLike,
        event: str | dict[str, Any],
        magnitude: float | None = None,
        idempotency_key: str | None = None,
    ) -> EventOutcome:
        """A game event (``"gift_received"`` or ``{"type", "magnitude"}``) for the NPC."""
        call = _event_call(persona_id, player, event, magnitude, idempotency_key)
        return EventOutcome.model_validate(await self._backend.request(call))

    async def conversation(
        self, persona_id: str, player_id: str, *, limit: int = 50, before: int | None = None
    ) -> ConversationView:
        """The NPC's conversation with the player: state, memories, the newest ``limit`` messages."""
        call = _conversation_call(persona_id, player_id, limit, before)
        return ConversationView.model_validate(await self._backend.request(call))

    async def reset(self, persona_id: str, player_id: str) -> None:
        """Forget everything the NPC keeps about the player."""
        await self._backend.request(_reset_call(persona_id, player_id))
