"""What a turn takes and gives: the player's context, game events, the NPC's reply.

These are pydantic models because the HTTP API and the SDK expose them as they are.
Inputs forbid unknown fields (a misspelt ``age_ratng`` is an error, not a silent
default); outputs are plain data.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from npc_engine.errors import InvalidInputError

__all__ = [
    "ActionOut",
    "EmotionOut",
    "EventOutcome",
    "GameEventIn",
    "NpcReply",
    "Player",
    "RelationshipOut",
    "TurnDelta",
    "Usage",
    "player_words",
]

_ID = r"^[^\x00-\x1f\x7f]+$"


class Player(BaseModel):
    """Who the NPC is talking to, as the game server knows them."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: Annotated[str, Field(min_length=1, max_length=200, pattern=_ID)]
    name: Annotated[str | None, Field(max_length=80, pattern=_ID)] = None
    locale: Annotated[str | None, Field(max_length=35)] = None  # e.g. "es-MX"; the client's language
    region: Annotated[str | None, Field(pattern=r"^[A-Za-z]{2}$")] = None  # ISO 3166-1 alpha-2
    age_rating: Annotated[int | None, Field(ge=0, le=21)] = None  # the player's age band, e.g. 12, 16, 18
    flags: Annotated[list[Annotated[str, Field(min_length=1, max_length=100)]], Field(max_length=1000)] = (
        Field(default_factory=list)
    )

    @field_validator("region")
    @classmethod
    def _upper(cls, value: str | None) -> str | None:
        return value.upper() if value else value

    @classmethod
    def of(cls, value: Player | str | dict[str, Any]) -> Player:
        """A player from a ``Player``, a bare id, or a dict of fields."""
        if isinstance(value, Player):
            return value
        if isinstance(value, str):
            return cls(id=value)
        return cls.model_validate(value)


class GameEventIn(BaseModel):
    """Something the player did in the game (``gift_received``, ``attacked``, ``quest_completed`` ...)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    type: Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.:-]+$")]
    magnitude: Annotated[float, Field(ge=0.0, le=10.0)] = 1.0


class EmotionOut(BaseModel):
    label: str  # the dominant emotion, or "neutral"
    intensity: float
    vector: dict[str, float]  # Plutchik's eight, 0..1


class RelationshipOut(BaseModel):
    stage: str
    axes: dict[str, float]  # trust, respect, familiarity, -1..1
    stage_changed: bool = False


class ActionOut(BaseModel):
    name: str
    args: dict[str, Any] = Field(default_factory=dict)


class Usage(BaseModel):
    prompt_tokens: int = 0
    completion_tokens: int = 0


class NpcReply(BaseModel):
    """One NPC turn's result: what to show, what the NPC feels, what the game should do."""

    persona_id: str
    player_id: str
    text: str
    locale: str
    emotion: EmotionOut
    relationship: RelationshipOut
    actions: list[ActionOut] = Field(default_factory=list)  # validated against the persona's allow-list
    citations: list[str] = Field(default_factory=list)  # lore source ids the reply drew on
    usage: Usage = Field(default_factory=Usage)
    timings_ms: dict[str, float] = Field(default_factory=dict)
    fallback: bool = False  # True when the grounded composer answered instead of the model
    fallback_reason: str | None = None
    blocked: str | None = None  # "policy:<rule>" when the input was deflected by content policy
    model: str = ""
    turn: int = 0  # this conversation's turn number
    debug: dict[str, Any] = Field(default_factory=dict)


class TurnDelta(BaseModel):
    """A piece of the reply's text while it streams (already checked by the output guard).

    ``reset`` means: clear what was shown so far (a retry or the fallback replaces it);
    the final :class:`NpcReply` always carries the authoritative text.
    """

    text: str
    reset: bool = False


class EventOutcome(BaseModel):
    """What a game event did to the NPC's emotion and relationship."""

    persona_id: str
    player_id: str
    event: str
    applied: bool
    ignored_reason: str | None = None
    emotion: EmotionOut
    relationship: RelationshipOut


def player_words(text: object, *, limit: int) -> str:
    """The player's message, checked and cleaned: control characters dropped, ends stripped.

    Raises :class:`~npc_engine.errors.InvalidInputError` for an empty message, one with no
    printable character, and one over ``limit`` characters (code ``input_too_long``).
    """
    if not isinstance(text, str) or not text.strip():
        raise InvalidInputError("the player's message is empty; send the words the player typed")
    if len(text) > limit:
        raise InvalidInputError(
            f"the player's message is {len(text)} characters; the limit is {limit} "
            "(NPC_MAX_INPUT_CHARS); ask the player to shorten it or raise the limit",
            code="input_too_long",
        )
    cleaned = "".join(ch for ch in text if ch in "\n\t" or ch.isprintable()).strip()
    if not cleaned:
        raise InvalidInputError("the player's message is empty: it has no printable characters")
    return cleaned
