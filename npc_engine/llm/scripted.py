"""A scripted chat model for tests: deterministic replies, every request recorded.

``record=False`` (what ``NPC_LLM=scripted`` builds, for servers under benchmark load) keeps no
request: a server that recorded each one grew by every prompt it sent, and a soak run measured
that fake's memory rather than the engine's.

A script item is a reply string, an exception instance (raised, to simulate a backend
failure), or a callable ``(request) -> str`` (to simulate a model that, say, echoes its
prompt). When the script runs out, the last item repeats.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Sequence

from npc_engine.errors import ConfigError
from npc_engine.llm.base import ChatRequest, ChatResult

__all__ = ["ScriptedChatModel"]

ScriptItem = str | BaseException | Callable[[ChatRequest], str]


class ScriptedChatModel:
    def __init__(
        self,
        script: Sequence[ScriptItem] = ("...",),
        *,
        delay_s: float = 0.0,
        id: str = "scripted",
        record: bool = True,
    ) -> None:
        if not script:
            raise ConfigError("ScriptedChatModel needs at least one script item")
        self.id = id
        self.script = list(script)
        self.delay_s = delay_s
        self.record = record
        self.calls = 0
        self.requests: list[ChatRequest] = []  # every request, in order (none unless ``record``)

    def _next(self, request: ChatRequest) -> str:
        self.calls += 1
        if self.record:
            self.requests.append(request)
        item = self.script[min(self.calls - 1, len(self.script) - 1)]
        if isinstance(item, BaseException):
            raise item
        return item(request) if callable(item) else item

    async def generate(self, request: ChatRequest) -> ChatResult:
        if self.delay_s:
            await asyncio.sleep(self.delay_s)
        text = self._next(request)
        prompt_words = sum(len(m.content.split()) for m in request.messages)
        return ChatResult(
            text=text, prompt_tokens=prompt_words, completion_tokens=len(text.split()), model=self.id
        )

    async def stream(self, request: ChatRequest) -> AsyncIterator[str]:
        if self.delay_s:
            await asyncio.sleep(self.delay_s)
        text = self._next(request)
        for i in range(0, len(text), 8):
            yield text[i : i + 8]
