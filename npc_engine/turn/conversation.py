"""Reading and resetting one NPC's conversation with one player (what ``GET``/``DELETE
/v1/npcs/{persona}/conversations/{player}`` serve).

The view shows what the game may show or audit: the messages (newest page, oldest first),
the rolling summary, the NPC's current emotion (decayed to now) and relationship, and what
it remembers about the player. It never includes another player's data: every read is keyed
by (tenant, persona, player).

A reset forgets everything this NPC keeps about this player (messages, memories, emotion,
relationship and their event log) and nothing else. A turn running at that moment commits
against the old version, fails its compare-and-set and re-runs on the fresh state, so it
lands after the reset, whole.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import structlog
from pydantic import BaseModel, Field

from npc_engine.affect import decay, state_from_json
from npc_engine.errors import InvalidInputError, NotFoundError
from npc_engine.state.records import ConversationKey
from npc_engine.turn.types import EmotionOut, RelationshipOut

if TYPE_CHECKING:
    from npc_engine.engine import Engine

__all__ = ["ConversationView", "MemoryOut", "MessageOut", "read_conversation", "reset_conversation"]

log = structlog.get_logger("npc_engine.turn")
MAX_PAGE = 500


class MessageOut(BaseModel):
    seq: int
    role: str  # player | npc | staff
    text: str
    at: float


class MemoryOut(BaseModel):
    text: str
    kind: str
    importance: float


class ConversationView(BaseModel):
    """One NPC's conversation with one player, as the game server may read it."""

    persona_id: str
    player_id: str
    started_at: float
    updated_at: float
    turns: int
    emotion: EmotionOut
    relationship: RelationshipOut
    summary: str = ""
    messages: list[MessageOut] = Field(default_factory=list)  # oldest first
    memories: list[MemoryOut] = Field(default_factory=list)  # most important first
    next_before: int | None = None  # pass as ``before`` for the previous page; None: no more


async def read_conversation(
    engine: Engine,
    persona_id: str,
    player_id: str,
    *,
    tenant: str | None = None,
    limit: int = 50,
    before: int | None = None,
) -> ConversationView:
    """The conversation's state and its newest ``limit`` messages before seq ``before``."""
    from npc_engine.turn.runner import emotion_out, relationship_out

    if not 1 <= limit <= MAX_PAGE:
        raise InvalidInputError(f"limit must be 1 to {MAX_PAGE}")
    if before is not None and before < 1:
        raise InvalidInputError("before must be a message seq of 1 or more")
    name = engine._tenant(tenant)
    kit = await engine.turns._kit(name, persona_id)
    key = ConversationKey(name, kit.persona.id, player_id)
    conv = await engine.state.load_conversation(key, history_limit=0)
    if conv.affect is None or conv.started_at is None:
        raise NotFoundError(f"{persona_id!r} has not talked with player {player_id!r} yet")
    stages = kit.world.relationship_stages
    shown = decay(
        state_from_json(conv.affect),
        kit.persona,
        engine.clock(),
        half_life_s=engine.settings.affect_half_life_s,
    )
    relationship = relationship_out(shown, kit.persona, stages, before="")
    page = await engine.state.list_messages(key, limit=limit, before_seq=before)
    memories = sorted(conv.memories, key=lambda m: (-m.importance, m.memory_id))
    return ConversationView(
        persona_id=kit.persona.id,
        player_id=player_id,
        started_at=conv.started_at,
        updated_at=conv.updated_at or conv.started_at,
        turns=conv.turns,
        emotion=emotion_out(shown),
        relationship=relationship.model_copy(update={"stage_changed": False}),
        summary=conv.summary,
        messages=[MessageOut(seq=m.seq, role=m.role, text=m.text, at=m.at) for m in page],
        memories=[MemoryOut(text=m.text, kind=m.kind, importance=round(m.importance, 4)) for m in memories],
        next_before=page[0].seq if page and page[0].seq > 1 else None,
    )


async def reset_conversation(
    engine: Engine, persona_id: str, player_id: str, *, tenant: str | None = None
) -> bool:
    """Forget this NPC's conversation with this player; ``False`` when there was none."""
    name = engine._tenant(tenant)
    kit = await engine.turns._kit(name, persona_id)
    removed = await engine.state.reset_conversation(ConversationKey(name, kit.persona.id, player_id))
    log.info("conversation.reset", tenant=name, persona=kit.persona.id, rows=removed)
    return removed > 0
