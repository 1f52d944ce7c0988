"""The NPC turn: player context in, a validated reply (text, emotion, relationship, actions) out.

Entry points are on :class:`~npc_engine.engine.Engine` (``npc_turn``, ``stream_npc_turn``,
``npc_event``, ``affect_state``); this package holds the pipeline (:mod:`.runner`,
:mod:`.attempt`), the reply format and its validation, and the wire models.
"""

from npc_engine.turn.reply_format import ParsedReply, TextStreamExtractor, parse_reply, reply_schema
from npc_engine.turn.runner import NpcTurns
from npc_engine.turn.types import (
    ActionOut,
    EmotionOut,
    EventOutcome,
    GameEventIn,
    NpcReply,
    Player,
    RelationshipOut,
    TurnDelta,
    Usage,
)
from npc_engine.turn.validate import Verdict, filter_actions, validate_reply

__all__ = [
    "ActionOut",
    "EmotionOut",
    "EventOutcome",
    "GameEventIn",
    "NpcReply",
    "NpcTurns",
    "ParsedReply",
    "Player",
    "RelationshipOut",
    "TextStreamExtractor",
    "TurnDelta",
    "Usage",
    "Verdict",
    "filter_actions",
    "parse_reply",
    "reply_schema",
    "validate_reply",
]
