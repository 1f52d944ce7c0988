"""Any LangChain ``BaseChatModel`` behind the ``ChatModel`` seam.

LangChain message types stay inside this module. Chosen by the id
``langchain:<module>.<Class>`` (built with no arguments, so it reads its own
environment variables), or wrap an instance you configured: ``LangChainChatModel(model)``.
"""

from __future__ import annotations

import importlib
from collections.abc import AsyncIterator
from typing import Any

from npc_engine.errors import ChatModelError, ChatModelTimeout, ConfigError
from npc_engine.llm.base import ChatRequest, ChatResult

__all__ = ["LangChainChatModel", "load_langchain_model"]


def load_langchain_model(dotted: str) -> Any:
    module_name, _, class_name = dotted.rpartition(".")
    if not module_name:
        raise ConfigError(f"langchain backend: write langchain:<module>.<Class>, got {dotted!r}")
    try:
        cls = getattr(importlib.import_module(module_name), class_name)
    except ImportError as exc:
        package = module_name.split(".")[0].replace("_", "-")
        raise ConfigError(f"cannot import {module_name}: pip install {package}") from exc
    except AttributeError:
        raise ConfigError(f"{module_name} has no class {class_name}") from None
    try:
        return cls()
    except Exception as exc:
        raise ConfigError(
            f"{dotted}() cannot be built without arguments ({exc.__class__.__name__}); set its environment "
            "variables, or build it in code and pass LangChainChatModel(model) to the engine"
        ) from None


class LangChainChatModel:
    def __init__(self, model: Any) -> None:
        self.model = model
        self.id = f"langchain:{type(model).__module__}.{type(model).__name__}"

    @staticmethod
    def _messages(request: ChatRequest) -> list[Any]:
        from langchain_core.messages import AIMessage, HumanMessage, SystemMessage

        kinds = {"system": SystemMessage, "user": HumanMessage, "assistant": AIMessage}
        return [kinds[m.role](content=m.content) for m in request.messages]

    async def generate(self, request: ChatRequest) -> ChatResult:
        import asyncio

        try:
            message = await asyncio.wait_for(
                self.model.ainvoke(self._messages(request), stop=list(request.stop) or None),
                timeout=request.timeout_s,
            )
        except TimeoutError:
            raise ChatModelTimeout(f"{self.id} did not answer within {request.timeout_s}s") from None
        except Exception as exc:
            raise ChatModelError(f"{self.id} failed: {exc}") from exc
        usage = getattr(message, "usage_metadata", None) or {}
        content = message.content if isinstance(message.content, str) else str(message.content)
        return ChatResult(
            text=content,
            prompt_tokens=int(usage.get("input_tokens", 0)),
            completion_tokens=int(usage.get("output_tokens", 0)),
            model=self.id,
        )

    async def stream(self, request: ChatRequest) -> AsyncIterator[str]:
        try:
            async for chunk in self.model.astream(self._messages(request), stop=list(request.stop) or None):
                text = chunk.content if isinstance(chunk.content, str) else str(chunk.content)
                if text:
                    yield text
        except Exception as exc:
            raise ChatModelError(f"{self.id} stream failed: {exc}") from exc
