"""NPC routes (role ``game``): turns (JSON or SSE), game events, conversations.

``player_id`` is the last path segment and may hold any character but control
characters; percent-encode it (``/`` as ``%2F`` works too: the route takes the rest of the
path).
"""

from __future__ import annotations

import functools
from typing import Annotated

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field

from npc_engine.server.api.common import (
    IdempotencyKey,
    TurnIn,
    answer_turn,
    idempotency,
    timed,
)
from npc_engine.server.deps import EngineDep, EventsDep, GameDep
from npc_engine.server.errors import ERROR_RESPONSES
from npc_engine.server.idempotency import Receipts
from npc_engine.server.sse import SSE_EVENT_SCHEMA
from npc_engine.turn.conversation import ConversationView
from npc_engine.turn.types import EventOutcome, GameEventIn, NpcReply, Player

__all__ = ["EventIn", "router"]

router = APIRouter(prefix="/npcs", tags=["npcs"], responses=ERROR_RESPONSES)

PersonaId = Annotated[
    str, Path(min_length=1, max_length=120, description="The NPC's persona id.", examples=["brannoc"])
]
PlayerId = Annotated[
    str, Path(min_length=1, max_length=200, description="The game's player id.", examples=["p-1842"])
]

_SSE = {
    "description": "The reply, or with `stream` a Server-Sent Events stream: `delta` events, then one `reply`.",
    "content": {"text/event-stream": {"schema": SSE_EVENT_SCHEMA}},
}


class EventIn(BaseModel):
    """Something the player did in the game, for the NPC to feel."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"player": {"id": "p-1842"}, "event": {"type": "gift_received"}}]},
    )

    player: Player
    event: GameEventIn = Field(description="`type` from the persona's event impacts, or a custom one.")


@router.post(
    "/{persona_id}/turns",
    operation_id="npc_turn",
    response_model=NpcReply,
    responses={200: _SSE},
    summary="The player says something to an NPC",
)
async def npc_turn(
    persona_id: PersonaId,
    body: TurnIn,
    request: Request,
    engine: EngineDep,
    principal: GameDep,
    idempotency_key: IdempotencyKey = None,
) -> Response:
    """The NPC's reply: text, emotion, relationship, validated actions, cited lore, usage, timings."""
    return await answer_turn(
        request,
        body,
        tenant=principal.tenant,
        idempotency_key=idempotency_key,
        kind="npc",
        final=NpcReply,
        run=functools.partial(engine.npc_turn, persona_id),
        stream=functools.partial(engine.stream_npc_turn, persona_id),
    )


@router.post(
    "/{persona_id}/events",
    operation_id="npc_event",
    response_model=EventOutcome,
    summary="Tell an NPC what the player did (gift, attack, quest progress ...)",
)
async def npc_event(
    persona_id: PersonaId,
    body: EventIn,
    request: Request,
    engine: EngineDep,
    principal: EventsDep,
    idempotency_key: IdempotencyKey = None,
) -> Response:
    """How the event moved the NPC's emotion and relationship (``applied: false`` if it did not apply)."""

    async def produce(receipts: Receipts | None) -> EventOutcome:
        event = engine.npc_event(
            persona_id, body.player, body.event, tenant=principal.tenant, receipt=receipts
        )
        return await timed(request, event)

    return await idempotency(request).json(request, principal.tenant, idempotency_key, body, produce)


@router.get(
    "/{persona_id}/conversations/{player_id:path}",
    operation_id="get_conversation",
    response_model=ConversationView,
    summary="Read an NPC's conversation with a player",
)
async def get_conversation(
    persona_id: PersonaId,
    player_id: PlayerId,
    engine: EngineDep,
    principal: GameDep,
    limit: Annotated[int, Query(ge=1, le=500, description="Messages per page.")] = 50,
    before: Annotated[
        int | None, Query(ge=1, description="Messages before this seq (`next_before`).")
    ] = None,
) -> ConversationView:
    """Emotion, relationship, memories, summary and a page of messages (oldest first)."""
    return await engine.conversation(
        persona_id, player_id, limit=limit, before=before, tenant=principal.tenant
    )


@router.delete(
    "/{persona_id}/conversations/{player_id:path}",
    operation_id="reset_conversation",
    status_code=204,
    response_class=Response,
    summary="Forget an NPC's conversation with a player",
)
async def reset_conversation(
    persona_id: PersonaId, player_id: PlayerId, engine: EngineDep, principal: GameDep
) -> Response:
    """Messages, memories, emotion and relationship of this NPC with this player are erased."""
    await engine.reset_conversation(persona_id, player_id, tenant=principal.tenant)
    return Response(status_code=204)
