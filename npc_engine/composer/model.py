"""The grounded composer as a chat backend (id ``composer``).

:class:`ComposerChatModel` implements the :class:`~npc_engine.llm.base.ChatModel`
Protocol, so a deployment can run with no language model at all and the engine's code
path stays the same. It ignores the request's messages, ``max_tokens``, temperature and
schema: it reads only ``ChatRequest.grounding``, which the engine fills with a
:class:`~npc_engine.composer.grounding.Grounding` on every NPC turn, and answers with
:func:`~npc_engine.composer.compose.compose`. A request without grounding (a support
turn, a direct caller) is a :class:`~npc_engine.errors.ChatModelError`, as the composer
has nothing it may say.

The reply is the same JSON object the engine asks an LLM for, ``{"text", "emotion",
"actions"}``, with no actions (the composer never acts for the NPC). ``extra["cited"]``
lists the lore note ids it quoted. ``completion_tokens`` counts the JSON with the
engine's tokenizer (cl100k_base); ``prompt_tokens`` is 0, as no prompt is read.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

from knowledge.tokens import count_tokens
from npc_engine.composer.compose import ComposedReply, compose
from npc_engine.composer.grounding import Grounding
from npc_engine.errors import ChatModelError
from npc_engine.llm.base import ChatRequest, ChatResult

__all__ = ["ComposerChatModel"]

_STREAM_CHUNKS = 4


class ComposerChatModel:
    """A :class:`~npc_engine.llm.base.ChatModel` that answers from the turn's grounding alone."""

    def __init__(self) -> None:
        self.id = "composer"

    def _answer(self, request: ChatRequest) -> tuple[str, ComposedReply]:
        grounding = request.grounding
        if not isinstance(grounding, Grounding):
            raise ChatModelError(
                "the composer answers only engine turns that carry grounding: ChatRequest.grounding must be "
                f"an npc_engine.composer.Grounding, got {type(grounding).__name__}"
            )
        reply = compose(grounding)
        payload = {"text": reply.text, "emotion": reply.emotion, "actions": []}
        return json.dumps(payload, ensure_ascii=False), reply

    async def generate(self, request: ChatRequest) -> ChatResult:
        text, reply = self._answer(request)
        return ChatResult(
            text=text,
            prompt_tokens=0,
            completion_tokens=count_tokens(text),
            model=self.id,
            extra={"cited": list(reply.cited)},
        )

    async def stream(self, request: ChatRequest) -> AsyncIterator[str]:
        text, _ = self._answer(request)
        size = max(1, -(-len(text) // _STREAM_CHUNKS))
        for start in range(0, len(text), size):
            yield text[start : start + size]
