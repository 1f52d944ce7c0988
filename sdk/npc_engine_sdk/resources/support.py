"""``client.support``: support-agent turns (plain and streamed) and staff replies for the game."""

from __future__ import annotations

from typing import Any

from .._request import Call
from .._streaming import AsyncTurnStream, TurnStream
from ..types import PlayerLike, StaffReply, SupportReply
from ._common import AsyncResource, SyncResource, turn_call

__all__ = ["AsyncSupport", "Support"]


def _claim_call(player_id: str, persona_id: str | None, idempotency_key: str | None) -> Call:
    body: dict[str, Any] = {"player_id": player_id}
    if persona_id is not None:
        body["persona_id"] = persona_id
    return Call(
        op="support.claim_replies",
        method="POST",
        path="/v1/support/replies/claim",
        args={"player_id": player_id, "persona_id": persona_id},
        json=body,
        idempotent=True,
        idempotency_key=idempotency_key,
    )


def _replies(data: Any) -> list[StaffReply]:
    return [StaffReply.model_validate(r) for r in (data or {}).get("replies", [])]


class Support(SyncResource):
    def turn(
        self,
        persona_id: str,
        *,
        player: PlayerLike,
        text: str,
        locale: str | None = None,
        debug: bool = False,
        idempotency_key: str | None = None,
    ) -> SupportReply:
        """The player asks the support agent ``persona_id``: an answer with citations, or an escalation."""
        call = turn_call(
            "support",
            persona_id,
            player=player,
            text=text,
            locale=locale,
            debug=debug,
            idempotency_key=idempotency_key,
            stream=False,
        )
        return SupportReply.model_validate(self._backend.request(call))

    def stream(
        self,
        persona_id: str,
        *,
        player: PlayerLike,
        text: str,
        locale: str | None = None,
        debug: bool = False,
        idempotency_key: str | None = None,
    ) -> TurnStream[SupportReply]:
        """Like :meth:`turn`, streamed: ``TurnDelta`` pieces, then the ``SupportReply``."""
        call = turn_call(
            "support",
            persona_id,
            player=player,
            text=text,
            locale=locale,
            debug=debug,
            idempotency_key=idempotency_key,
            stream=True,
        )
        return TurnStream(self._backend.stream(call), SupportReply)

    def claim_replies(
        self, player_id: str, *, persona_id: str | None = None, idempotency_key: str | None = None
    ) -> list[StaffReply]:
        """Staff replies to the player not handed out yet, oldest first; each is handed out once."""
        return _replies(self._backend.request(_claim_call(player_id, persona_id, idempotency_key)))


class AsyncSupport(AsyncResource):
    async def turn(
        self,
        persona_id: str,
        *,
        player: PlayerLike,
        text: str,
        locale: str | None = None,
        debug: bool = False,
        idempotency_key: str | None = None,
    ) -> SupportReply:
        """The player asks the support agent ``persona_id``: an answer with citations, or an escalation."""
        call = turn_call(
            "support",
            persona_id,
            player=player,
            text=text,
            locale=locale,
            debug=debug,
            idempotency_key=idempotency_key,
            stream=False,
        )
        return SupportReply.model_validate(await self._backend.request(call))

    def stream(
        self,
        persona_id: str,
        *,
        player: PlayerLike,
        text: str,
        locale: str | None = None,
        debug: bool = False,
        idempotency_key: str | None = None,
    ) -> AsyncTurnStream[SupportReply]:
        """Like :meth:`turn`, streamed: ``TurnDelta`` pieces, then the ``SupportReply``."""
        call = turn_call(
            "support",
            persona_id,
            player=player,
            text=text,
            locale=locale,
            debug=debug,
            idempotency_key=idempotency_key,
            stream=True,
        )
        return AsyncTurnStream(self._backend.stream(call), SupportReply)

    async def claim_replies(
        self, player_id: str, *, persona_id: str | None = None, idempotency_key: str | None = None
    ) -> list[StaffReply]:
        """Staff replies to the player not handed out yet, oldest first; each is handed out once."""
        return _replies(await self._backend.request(_claim_call(player_id, persona_id, idempotency_key)))
