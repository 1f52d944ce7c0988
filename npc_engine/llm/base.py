"""The ``ChatModel`` seam: generate (or stream) a reply from messages.

Adapters (llama.cpp, OpenAI-compatible servers, LangChain chat models, the grounded
composer) implement this one Protocol; engine code never sees a vendor type. A reply
may be constrained to a JSON Schema where the backend supports it.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol, runtime_checkable

__all__ = ["ChatMessage", "ChatModel", "ChatRequest", "ChatResult", "Role"]

Role = Literal["system", "user", "assistant"]


@dataclass(frozen=True, slots=True)
class ChatMessage:
    role: Role
    content: str


@dataclass(frozen=True, slots=True)
class ChatRequest:
    messages: Sequence[ChatMessage]
    max_tokens: int = 256
    temperature: float = 0.7
    json_schema: dict[str, Any] | None = None  # constrain the output where supported
    stop: Sequence[str] = ()
    timeout_s: float | None = None
    # What the turn is grounded on, as structured data (a ``npc_engine.composer.Grounding``
    # for NPC turns). LLM adapters ignore it; the grounded composer answers from it alone.
    grounding: object | None = None


@dataclass(frozen=True, slots=True)
class ChatResult:
    text: str
    prompt_tokens: int = 0
    completion_tokens: int = 0
    model: str = ""
    finish_reason: str = "stop"
    extra: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_openai(cls, data: dict[str, Any], *, model: str) -> ChatResult:
        """Read an OpenAI-shaped chat completion (llama.cpp and OpenAI-compatible servers).

        Raises ``KeyError``/``IndexError``/``TypeError`` on a malformed body; callers turn
        that into ``ChatModelError``.
        """
        choice = data["choices"][0]
        usage = data.get("usage") or {}
        return cls(
            text=choice["message"].get("content") or "",
            prompt_tokens=int(usage.get("prompt_tokens", 0)),
            completion_tokens=int(usage.get("completion_tokens", 0)),
            model=model,
            finish_reason=choice.get("finish_reason") or "stop",
        )


@runtime_checkable
class ChatModel(Protocol):
    """Generates a reply. ``stream`` yields text deltas; its concatenation is the reply."""

    id: str

    async def generate(self, request: ChatRequest) -> ChatResult: ...

    def stream(self, request: ChatRequest) -> AsyncIterator[str]: ...
