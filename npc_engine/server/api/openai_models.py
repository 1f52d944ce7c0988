"""The wire models of the OpenAI-compatible routes (:mod:`npc_engine.server.api.openai_compat`).

Requests accept OpenAI's many optional fields (``extra="allow"``) and validate the ones the
engine reads; answers are OpenAI's shapes plus the ``npc`` extension field.
"""

from __future__ import annotations

import copy
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from npc_engine.support.types import Citation, StaffReplyOut
from npc_engine.turn.types import ActionOut, EmotionOut, Player, RelationshipOut

__all__ = [
    "MODEL_FORMS",
    "AssistantMessage",
    "ChatCompletion",
    "ChatCompletionChunk",
    "ChatCompletionRequest",
    "ChatMessage",
    "Choice",
    "ChunkChoice",
    "ChunkDelta",
    "CompletionUsage",
    "ContentPart",
    "ModelCard",
    "ModelList",
    "NpcTurnMeta",
    "PlayerContext",
    "StreamError",
    "StreamErrorDetail",
    "StreamOptions",
    "SupportTurnMeta",
]

MODEL_FORMS = "'npc:<persona_id>' or 'support:<persona_id>' (GET /v1/models lists them)"


# -- request ------------------------------------------------------------------------------------
class ContentPart(BaseModel):
    model_config = ConfigDict(extra="allow")

    type: str
    text: str | None = None


class ChatMessage(BaseModel):
    model_config = ConfigDict(extra="allow")  # name, tool_calls ... are accepted and ignored

    role: Literal["system", "developer", "user", "assistant", "tool", "function"]
    content: str | list[ContentPart] | None = None


def _player_field(name: str) -> Any:
    """:class:`Player`'s own field (constraints, default), so the schema shows Player's rules."""
    return copy.copy(Player.model_fields[name])


class PlayerContext(BaseModel):
    """The player's context (``npc`` in the request): a :class:`Player` without its id."""

    model_config = ConfigDict(extra="forbid")

    name: str | None = _player_field("name")
    locale: str | None = _player_field("locale")
    region: str | None = _player_field("region")
    age_rating: int | None = _player_field("age_rating")
    flags: list[str] = _player_field("flags")


class StreamOptions(BaseModel):
    model_config = ConfigDict(extra="allow")

    include_usage: bool = False


class ChatCompletionRequest(BaseModel):
    """OpenAI's chat request; the fields npc-engine does not use are accepted and ignored."""

    model_config = ConfigDict(extra="allow")  # OpenAI clients send many optional fields

    model: Annotated[str, Field(description=f"the persona: {MODEL_FORMS}")]
    messages: Annotated[list[ChatMessage], Field(description="only the last `user` message is read")]
    user: Annotated[str | None, Field(description="the player's id (or the X-Player-Id header)")] = None
    stream: bool = False
    stream_options: StreamOptions | None = None
    n: Annotated[int | None, Field(ge=1, le=1, description="only 1")] = None
    max_tokens: Annotated[int | None, Field(description="ignored: the engine's settings govern")] = None
    max_completion_tokens: Annotated[int | None, Field(description="ignored")] = None
    temperature: Annotated[float | None, Field(description="ignored")] = None
    npc: Annotated[PlayerContext | None, Field(description="extension: the player's context")] = None


# -- answers ------------------------------------------------------------------------------------
class CompletionUsage(BaseModel):
    prompt_tokens: int
    completion_tokens: int
    total_tokens: int


class NpcTurnMeta(BaseModel):
    """What an NPC turn did besides talking (``npc`` in the answer)."""

    emotion: EmotionOut
    relationship: RelationshipOut
    actions: list[ActionOut]
    citations: list[str]
    fallback: bool
    turn: int


class SupportTurnMeta(BaseModel):
    """How a support turn went (``npc`` in the answer)."""

    answered: bool
    escalated: bool
    reason: str | None
    ticket_id: str | None
    citations: list[Citation]
    staff_replies: list[StaffReplyOut]
    confidence: float


class AssistantMessage(BaseModel):
    role: Literal["assistant"] = "assistant"
    content: str


class Choice(BaseModel):
    index: int = 0
    message: AssistantMessage
    finish_reason: Literal["stop"] = "stop"


class ChatCompletion(BaseModel):
    id: str
    object: Literal["chat.completion"] = "chat.completion"
    created: int
    model: str
    choices: list[Choice]
    usage: CompletionUsage
    npc: NpcTurnMeta | SupportTurnMeta


class ChunkDelta(BaseModel):
    role: Literal["assistant"] | None = None
    content: str | None = None


class ChunkChoice(BaseModel):
    index: int = 0
    delta: ChunkDelta
    finish_reason: Literal["stop"] | None = None


class ChatCompletionChunk(BaseModel):
    id: str
    object: Literal["chat.completion.chunk"] = "chat.completion.chunk"
    created: int
    model: str
    choices: list[ChunkChoice]
    usage: CompletionUsage | None = None  # the usage chunk only (stream_options.include_usage)
    npc: NpcTurnMeta | SupportTurnMeta | None = None  # the finish_reason chunk only


class StreamErrorDetail(BaseModel):
    message: str
    type: str
    code: str


class StreamError(BaseModel):
    error: StreamErrorDetail


class ModelCard(BaseModel):
    id: str
    object: Literal["model"] = "model"
    created: int = 0  # personas carry no creation time
    owned_by: str


class ModelList(BaseModel):
    object: Literal["list"] = "list"
    data: list[ModelCard]
