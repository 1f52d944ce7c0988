"""The bundled local GGUF through the in-process llama.cpp backend (needs the [local] extra)."""

from __future__ import annotations

import json

import pytest

from npc_engine.llm import ChatMessage, ChatRequest
from npc_engine.llm.factory import make_chat_model

MESSAGES = [ChatMessage("system", "You are Brannoc, a gruff smith."), ChatMessage("user", "Hello!")]

llama_cpp = pytest.importorskip("llama_cpp", reason="the [local] extra is not installed")


@pytest.mark.slow
async def test_the_bundled_gguf_completes_a_json_constrained_reply() -> None:
    model = make_chat_model("llamacpp")
    schema = {
        "type": "object",
        "properties": {
            "text": {"type": "string", "maxLength": 200},
            "emotion": {"type": "string", "enum": ["joy", "trust", "anger", "neutral"]},
        },
        "required": ["text", "emotion"],
    }
    result = await model.generate(
        ChatRequest(messages=MESSAGES, max_tokens=120, temperature=0.2, json_schema=schema, timeout_s=120)
    )
    reply = json.loads(result.text)
    assert set(reply) >= {"text", "emotion"} and reply["emotion"] in {"joy", "trust", "anger", "neutral"}
    assert result.completion_tokens > 0 and result.prompt_tokens > 0
    streamed = "".join(
        [c async for c in model.stream(ChatRequest(messages=MESSAGES, max_tokens=32, timeout_s=120))]
    )
    assert streamed.strip()
