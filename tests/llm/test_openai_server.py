"""The ``openai`` backend against a real OpenAI-compatible server: llama-cpp-python's, on loopback."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

import pytest

from npc_engine.devservices import free_port
from npc_engine.errors import ChatModelError, ChatModelTimeout, ConfigError
from npc_engine.llm import ChatMessage, ChatRequest
from npc_engine.llm.factory import make_chat_model
from npc_engine.llm.openai_compat import OpenAIChatModel, parse_openai_spec

pytest.importorskip("llama_cpp.server", reason="the llama-cpp-python[server] extra is not installed")
pytestmark = pytest.mark.slow

MESSAGES = [ChatMessage("system", "You are Brannoc, a gruff smith."), ChatMessage("user", "Hello there!")]


@pytest.fixture(scope="module")
def server(llama_server: str) -> str:
    """The session's llama.cpp server (``tests/conftest.py``): base URL, model ``smollm2``."""
    return llama_server


@pytest.fixture
async def opened() -> AsyncIterator[list[OpenAIChatModel]]:
    """Models a test opens; their HTTP clients are closed after it."""
    models: list[OpenAIChatModel] = []
    yield models
    for model in models:
        await model.aclose()


def _open(models: list[OpenAIChatModel], model: object) -> OpenAIChatModel:
    assert isinstance(model, OpenAIChatModel)
    models.append(model)
    return model


def test_the_spec_names_url_model_and_schema_mode() -> None:
    assert parse_openai_spec("http://h:1/v1#m,schema=json_object") == ("http://h:1/v1", "m", "json_object")
    with pytest.raises(ConfigError, match="openai:<base_url>#<model>"):
        make_chat_model("openai:nohost")


async def test_a_reply_comes_back_with_usage(server: str, opened: list[OpenAIChatModel]) -> None:
    model = _open(opened, make_chat_model(f"openai:{server}#smollm2"))
    result = await model.generate(
        ChatRequest(messages=MESSAGES, max_tokens=24, temperature=0.2, timeout_s=60)
    )
    assert result.text.strip() and result.prompt_tokens > 0 and 0 < result.completion_tokens <= 24


async def test_max_tokens_is_honoured(server: str, opened: list[OpenAIChatModel]) -> None:
    model = _open(opened, OpenAIChatModel(server, "smollm2"))
    result = await model.generate(ChatRequest(messages=MESSAGES, max_tokens=4, timeout_s=60))
    assert result.completion_tokens <= 4 and result.finish_reason == "length"


async def test_a_json_schema_constrains_the_reply(server: str, opened: list[OpenAIChatModel]) -> None:
    model = _open(opened, make_chat_model(f"openai:{server}#smollm2,schema=json_object"))
    schema = {
        "type": "object",
        "properties": {
            "text": {"type": "string", "maxLength": 120},
            "emotion": {"enum": ["joy", "anger", "neutral"]},
        },
        "required": ["text", "emotion"],
    }
    result = await model.generate(
        ChatRequest(messages=MESSAGES, max_tokens=96, temperature=0.2, json_schema=schema, timeout_s=90)
    )
    reply = json.loads(result.text)
    assert reply["emotion"] in {"joy", "anger", "neutral"} and isinstance(reply["text"], str)


async def test_streaming_yields_the_reply_in_pieces(server: str, opened: list[OpenAIChatModel]) -> None:
    model = _open(opened, OpenAIChatModel(server, "smollm2"))
    pieces = [p async for p in model.stream(ChatRequest(messages=MESSAGES, max_tokens=16, timeout_s=60))]
    assert len(pieces) > 1 and "".join(pieces).strip()


async def test_a_slow_server_raises_a_timeout(server: str, opened: list[OpenAIChatModel]) -> None:
    model = _open(opened, OpenAIChatModel(server, "smollm2"))
    with pytest.raises(ChatModelTimeout):
        await model.generate(ChatRequest(messages=MESSAGES, max_tokens=64, timeout_s=0.001))


async def test_a_server_that_is_down_is_a_clear_backend_error(opened: list[OpenAIChatModel]) -> None:
    model = _open(opened, OpenAIChatModel(f"http://127.0.0.1:{free_port()}/v1", "smollm2", retries=1))
    with pytest.raises(ChatModelError, match="failed after 2 attempts"):
        await model.generate(ChatRequest(messages=MESSAGES, timeout_s=5))
