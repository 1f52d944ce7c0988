"""What the API answers (response models) and the one thing callers build (:class:`Player`).

Response models allow fields they do not know (``extra="allow"``), so a newer server never
breaks an older SDK: unknown fields are kept and readable as attributes. Fields the server may
leave out have defaults. :class:`Player` is the opposite: it forbids unknown fields, so a
misspelt ``age_ratng`` fails here instead of being dropped.
"""

from __future__ import annotations

from typing import Any, TypeAlias

from pydantic import BaseModel, ConfigDict, Field

__all__ = [
    "Action",
    "Citation",
    "ConversationView",
    "Emotion",
    "EventOutcome",
    "IngestResult",
    "Memory",
    "Message",
    "NpcReply",
    "PersonaSummary",
    "Player",
    "PlayerLike",
    "Relationship",
    "StaffReply",
    "SupportReply",
    "Ticket",
    "TicketEvent",
    "TicketPage",
    "TurnDelta",
    "Usage",
]


class _Model(BaseModel):
    model_config = ConfigDict(extra="allow")


# -- requests ---------------------------------------------------------------------------------
class Player(BaseModel):
    """Who the NPC is talking to, as the game server knows them."""

    model_config = ConfigDict(extra="forbid")

    id: str
    name: str | None = None
    locale: str | None = None  # the client's language, e.g. "es-MX"
    region: str | None = None  # ISO 3166-1 alpha-2, e.g. "DE"
    age_rating: int | None = None  # the player's age band, e.g. 12, 16, 18
    flags: list[str] = Field(default_factory=list)  # quest and story flags the NPC may know about


PlayerLike: TypeAlias = Player | dict[str, Any] | str
"""A :class:`Player`, a dict of its fields, or a bare player id."""


def player_of(value: PlayerLike) -> Player:
    if isinstance(value, Player):
        return value
    if isinstance(value, str):
        return Player(id=value)
    return Player.model_validate(value)


# -- NPC turns --------------------------------------------------------------------------------
class Emotion(_Model):
    label: str = "neutral"  # the dominant emotion, or "neutral"
    intensity: float = 0.0
    vector: dict[str, float] = Field(default_factory=dict)  # Plutchik's eight, 0..1


class Relationship(_Model):
    stage: str = ""
    axes: dict[str, float] = Field(default_factory=dict)  # trust, respect, familiarity, -1..1
    stage_changed: bool = False


class Action(_Model):
    name: str
    args: dict[str, Any] = Field(default_factory=dict)


class Usage(_Model):
    prompt_tokens: int = 0
    completion_tokens: int = 0


class NpcReply(_Model):
    """One NPC turn's result: what to show, what the NPC feels, what the game should do."""

    persona_id: str
    player_id: str
    text: str
    locale: str = ""
    emotion: Emotion = Field(default_factory=Emotion)
    relationship: Relationship = Field(default_factory=Relationship)
    actions: list[Action] = Field(default_factory=list)
    citations: list[str] = Field(default_factory=list)  # lore source ids the reply drew on
    usage: Usage = Field(default_factory=Usage)
    timings_ms: dict[str, float] = Field(default_factory=dict)
    fallback: bool = False  # the grounded composer answered instead of the model
    fallback_reason: str | None = None
    blocked: str | None = None  # "policy:<rule>" when the input was deflected
    model: str = ""
    turn: int = 0
    debug: dict[str, Any] = Field(default_factory=dict)


class TurnDelta(_Model):
    """A checked piece of the reply's text while it streams.

    ``reset``: discard what was shown so far (a retry or the fallback replaces it). The final
    reply always carries the authoritative text.
    """

    text: str = ""
    reset: bool = False


class EventOutcome(_Model):
    """What a game event did to the NPC's emotion and relationship."""

    persona_id: str
    player_id: str
    event: str
    applied: bool = True
    ignored_reason: str | None = None
    emotion: Emotion = Field(default_factory=Emotion)
    relationship: Relationship = Field(default_factory=Relationship)


class Message(_Model):
    seq: int
    role: str  # player | npc | staff
    text: str
    at: float


class Memory(_Model):
    text: str
    kind: str = ""
    importance: float = 0.0


class ConversationView(_Model):
    """One NPC's conversation with one player: state, memories and a page of messages."""

    persona_id: str
    player_id: str
    started_at: float = 0.0
    updated_at: float = 0.0
    turns: int = 0
    emotion: Emotion = Field(default_factory=Emotion)
    relationship: Relationship = Field(default_factory=Relationship)
    summary: str = ""
    messages: list[Message] = Field(default_factory=list)  # oldest first
    memories: list[Memory] = Field(default_factory=list)  # most important first
    next_before: int | None = None  # pass as ``before`` for the previous page; None: no more


# -- support ----------------------------------------------------------------------------------
class Citation(_Model):
    """A source a support answer rests on: an FAQ entry or a resolved ticket."""

    id: str
    kind: str = ""
    title: str = ""
    category: str | None = None
    score: float | None = None


class StaffReply(_Model):
    """A support agent's answer to a ticket, for the game to show the player."""

    ticket_id: str
    staff: str
    text: str
    at: float
    reply_id: int | None = None
    persona_id: str | None = None
    player_id: str | None = None
    delivered_at: float | None = None


class SupportReply(_Model):
    persona_id: str
    player_id: str
    text: str
    locale: str = ""
    answered: bool = False  # answered from its sources
    escalated: bool = False  # a ticket was opened (or the open one updated) for staff
    reason: str | None = None
    reason_detail: str = ""
    ticket_id: str | None = None
    confidence: float = 0.0
    category: str | None = None
    citations: list[Citation] = Field(default_factory=list)
    staff_replies: list[StaffReply] = Field(default_factory=list)
    usage: Usage = Field(default_factory=Usage)
    timings_ms: dict[str, float] = Field(default_factory=dict)
    model: str = ""
    adapted: bool = False
    debug: dict[str, Any] = Field(default_factory=dict)


class Ticket(_Model):
    ticket_id: str
    persona_id: str = ""
    player_id: str = ""
    locale: str = ""
    status: str = "open"  # open | waiting_on_player | resolved
    category: str = ""
    priority: str = "normal"  # low | normal | high | urgent
    reason: str = ""
    reason_detail: str = ""
    question_redacted: str = ""
    summary: str = ""
    suggested_reply: str = ""
    sources_tried: list[dict[str, Any]] = Field(default_factory=list)
    transcript: list[dict[str, Any]] = Field(default_factory=list)
    created_at: float = 0.0
    updated_at: float = 0.0
    resolved_at: float | None = None
    resolution: str = ""
    resolved_by: str = ""
    version: int = 1


class TicketEvent(_Model):
    """One line of a ticket's audit trail."""

    ticket_id: str
    seq: int
    at: float
    actor: str
    action: str
    detail: dict[str, Any] = Field(default_factory=dict)


class TicketPage(_Model):
    tickets: list[Ticket] = Field(default_factory=list)
    total: int = 0  # tickets matching the filters, over all pages


# -- admin ------------------------------------------------------------------------------------
class PersonaSummary(_Model):
    id: str
    kind: str = ""  # npc | support
    name: str = ""


class IngestResult(_Model):
    """What an ingestion did; the server may add fields."""

    files: int | None = None
    files_changed: int | None = None
    files_removed: int | None = None
    documents: int | None = None
    chunks_embedded: int | None = None
    chunks_deleted: int | None = None
    seconds: float | None = None
    revision: int | None = None
    personas: int | None = None
    world_changed: bool | None = None
