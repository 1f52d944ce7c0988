"""Support routes (role ``game``): support turns (JSON or SSE) and claiming staff replies."""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import Annotated

from fastapi import APIRouter, Path, Request
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field

from npc_engine.server.api.common import (
    IdempotencyKey,
    TurnIn,
    answer_turn,
    idempotency,
)
from npc_engine.server.deps import EngineDep, GameDep, RepliesDep
from npc_engine.server.errors import ERROR_RESPONSES
from npc_engine.server.idempotency import Receipts
from npc_engine.server.sse import SSE_EVENT_SCHEMA
from npc_engine.support.tickets import StaffReply
from npc_engine.support.types import StaffReplyOut, SupportReply

__all__ = ["ClaimIn", "ClaimedReplies", "router"]

router = APIRouter(prefix="/support", tags=["support"], responses=ERROR_RESPONSES)

PersonaId = Annotated[
    str, Path(min_length=1, max_length=120, description="The support agent's persona id.", examples=["aria"])
]
_SSE = {
    "description": "The reply, or with `stream` a Server-Sent Events stream: `delta` events, then one `reply`.",
    "content": {"text/event-stream": {"schema": SSE_EVENT_SCHEMA}},
}


class ClaimIn(BaseModel):
    """Whose staff replies the game wants to deliver now."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"player_id": "p-1842"}]})

    player_id: Annotated[str, Field(min_length=1, max_length=200, pattern=r"^[^\x00-\x1f\x7f]+$")]
    persona_id: Annotated[str | None, Field(min_length=1, max_length=120)] = None


class ClaimedReplies(BaseModel):
    replies: list[StaffReplyOut] = Field(default_factory=list)


@router.post(
    "/{persona_id}/turns",
    operation_id="support_turn",
    response_model=SupportReply,
    responses={200: _SSE},
    summary="The player asks a support agent",
)
async def support_turn(
    persona_id: PersonaId,
    body: TurnIn,
    request: Request,
    engine: EngineDep,
    principal: GameDep,
    idempotency_key: IdempotencyKey = None,
) -> Response:
    """An answer with citations, or an escalation to staff (``escalated``, ``ticket_id``).

    Staff replies waiting for this player come with the reply (``staff_replies``), once.
    """
    return await answer_turn(
        request,
        body,
        tenant=principal.tenant,
        idempotency_key=idempotency_key,
        kind="support",
        final=SupportReply,
        run=functools.partial(engine.support_turn, persona_id),
        stream=functools.partial(engine.stream_support_turn, persona_id),
    )


@router.post(
    "/replies/claim",
    operation_id="claim_staff_replies",
    response_model=ClaimedReplies,
    summary="Take the staff replies waiting for a player",
)
async def claim_staff_replies(
    body: ClaimIn,
    request: Request,
    engine: EngineDep,
    principal: RepliesDep,
    idempotency_key: IdempotencyKey = None,
) -> Response:
    """Staff answers the game has not delivered yet, oldest first; each is handed out once.

    Send an ``Idempotency-Key``: a retry after a lost answer then gets the same replies back
    (the answer is stored in the transaction that marks them delivered).
    """

    def claimed(replies: Sequence[StaffReply]) -> ClaimedReplies:
        return ClaimedReplies(
            replies=[
                StaffReplyOut(reply_id=r.reply_id, ticket_id=r.ticket_id, staff=r.staff, text=r.text, at=r.at)
                for r in replies
            ]
        )

    async def produce(receipts: Receipts | None) -> ClaimedReplies:
        replies = await engine.desk.pending_replies(
            principal.tenant,
            body.player_id,
            persona_id=body.persona_id,
            receipt=(lambda replies: receipts(claimed(replies))) if receipts is not None else None,
        )
        return claimed(replies)

    return await idempotency(request).json(request, principal.tenant, idempotency_key, body, produce)
