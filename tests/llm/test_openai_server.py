"""The ``openai`` backend against a real OpenAI-compatible server: llama-cpp-python's, on loopback."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator

import httpx
import pytest

from npc_engine.errors import ChatModelError, ChatModelTimeout, ConfigError
from npc_engine.llm import ChatMessage, ChatRequest
from npc_engine.llm.factory import make_chat_model
from npc_engine.llm.openai_compat import OpenAIChatModel, parse_openai_spec

pytest.importorskip("llama_cpp.server", reason="the llama-cpp-python[server] extra is not installed")
pytestmark = pytest.mark.slow

MESSAGES = [ChatMessage("system", "You are Brannoc, a gruff smith."), ChatMessage("user", "Hello there!")]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    from npc_engine.llm.llamacpp import bundled_gguf

    port = _free_port()
    log_path = tmp_path_factory.mktemp("llama-server") / "server.log"
    log = log_path.open("wb")  # not a pipe: llama.cpp's load log would fill it and block the server
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "npc_engine.llm.llama_server",  # llama_cpp.server with the crash-safe model loading
            "--model",
            str(bundled_gguf()),
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--n_threads",
            "1",
            "--n_ctx",
            "2048",
            "--model_alias",
            "smollm2",
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}/v1"
    try:
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                raise RuntimeError(
                    f"llama_cpp.server exited: {proc.stderr.read().decode()[-2000:] if proc.stderr else ''}"
                )
            try:
                if httpx.get(f"{base}/models", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.3)
        else:
            raise RuntimeError("llama_cpp.server did not become ready in 90 s")
        yield base
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


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
    model = _open(opened, OpenAIChatModel(f"http://127.0.0.1:{_free_port()}/v1", "smollm2", retries=1))
    with pytest.raises(ChatModelError, match="failed after 2 attempts"):
        await model.generate(ChatRequest(messages=MESSAGES, timeout_s=5))
