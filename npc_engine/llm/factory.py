"""Chat models chosen by string id, imported lazily.

=====================================  ==============================================
``llamacpp``                           in-process llama.cpp, the bundled SmolLM2-135M
``llamacpp:/path/model.gguf``          in-process llama.cpp, any GGUF file
``openai:<base_url>#<model>``          any OpenAI-compatible server (``,schema=json_object``
                                       for llama-cpp-python's server)
``langchain:<module>.<Class>``         any LangChain chat model (built with no arguments)
``composer``                           the grounded composer: no model, answers only
                                       from the turn's gated lore and memories
``scripted``                           the scripted fake (tests, benchmarks): an instant,
                                       well-formed reply; ``scripted:TEXT`` replies TEXT
=====================================  ==============================================
"""

from __future__ import annotations

from npc_engine.errors import ConfigError
from npc_engine.llm.base import ChatModel

__all__ = ["make_chat_model"]


def make_chat_model(spec: str, *, n_threads: int = 1) -> ChatModel:
    backend, _, arg = spec.partition(":")
    if backend == "llamacpp":
        from npc_engine.llm.llamacpp import LlamaCppChatModel

        return LlamaCppChatModel(arg or None, n_threads=n_threads)
    if backend == "openai":
        from npc_engine.llm.openai_compat import OpenAIChatModel, parse_openai_spec

        base_url, model, mode = parse_openai_spec(arg)
        return OpenAIChatModel(base_url, model, schema_mode=mode)
    if backend == "langchain":
        from npc_engine.llm.langchain import LangChainChatModel, load_langchain_model

        return LangChainChatModel(load_langchain_model(arg))
    if backend == "composer":
        from npc_engine.composer.model import ComposerChatModel

        return ComposerChatModel()
    if backend == "scripted":
        import json

        from npc_engine.llm.scripted import ScriptedChatModel

        reply = json.dumps({"text": arg or "Aye.", "emotion": "neutral", "actions": []})
        return ScriptedChatModel([reply], record=False)  # a server keeps no prompts
    raise ConfigError(
        f"unknown chat model {spec!r}; use llamacpp[:PATH.gguf], openai:<base_url>#<model>, langchain:<module>.<Class>, composer or scripted"
    )
