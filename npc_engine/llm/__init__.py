"""Language models behind the one ``ChatModel`` seam."""

from npc_engine.llm.base import ChatMessage, ChatModel, ChatRequest, ChatResult
from npc_engine.llm.scripted import ScriptedChatModel

__all__ = ["ChatMessage", "ChatModel", "ChatRequest", "ChatResult", "ScriptedChatModel"]
