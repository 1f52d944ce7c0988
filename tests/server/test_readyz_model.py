"""``/readyz`` with a remote model server: checked, and ``degraded`` (200), never 503, when it fails.

The model server is llama-cpp-python's real OpenAI-compatible server (the session's
``llama_server`` fixture) or a free port nothing listens on.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable

import httpx
import pytest
from fastapi.testclient import TestClient

from npc_engine.devservices import free_port
from npc_engine.engine import Engine
from npc_engine.errors import ChatModelError, ConfigError
from npc_engine.llm.openai_compat import OpenAIChatModel
from npc_engine.server.app import create_app
from tests.api_world import ApiWorld

Ready = Callable[[str], httpx.Response]


@pytest.fixture
def readyz(api_world: ApiWorld) -> Callable[[str], httpx.Response]:
    """``readyz(SPEC)``: the ``/readyz`` answer of a server whose engine uses that model
    (over the world's state and vectors, which the world closes)."""

    def answer(llm: str) -> httpx.Response:
        engine = Engine(
            settings=ApiWorld.settings(api_world.root, llm=llm),
            state=api_world.engine.state,
            embedder=api_world.engine.embedder,
            vectors=api_world.vectors,
        )
        with TestClient(create_app(engine)) as client:
            response = client.get("/readyz")
            with contextlib.suppress(ConfigError):
                model = engine.chat_model
                if isinstance(model, OpenAIChatModel):  # its HTTP client, in the loop that used it
                    client.portal.call(model.aclose)  # type: ignore[union-attr]
        return response

    return answer


@pytest.mark.slow
def test_a_model_server_that_serves_the_model_is_ready(readyz: Ready, llama_server: str) -> None:
    answer = readyz(f"openai:{llama_server}#smollm2,schema=json_object")
    assert answer.status_code == 200
    assert answer.json() == {
        "status": "ready",
        "checks": {"state_store": "ok", "vector_store": "ok", "language_model": "ok"},
    }


@pytest.mark.slow
def test_a_model_the_server_does_not_serve_is_degraded_naming_what_it_serves(
    readyz: Ready, llama_server: str
) -> None:
    answer = readyz(f"openai:{llama_server}#qwen-7b")
    assert answer.status_code == 200
    body = answer.json()
    assert body["status"] == "degraded"
    assert (body["checks"]["state_store"], body["checks"]["vector_store"]) == ("ok", "ok")
    assert "does not serve model 'qwen-7b'" in body["checks"]["language_model"]
    assert "smollm2" in body["checks"]["language_model"]


def test_a_model_server_that_is_down_is_degraded_not_unready(readyz: Ready) -> None:
    """Every worker shares the model server, and turns fall back while it is down: 200, not 503."""
    answer = readyz(f"openai:http://127.0.0.1:{free_port()}/v1#smollm2")
    assert answer.status_code == 200
    body = answer.json()
    assert body["status"] == "degraded"
    assert "connection failed" in body["checks"]["language_model"]


def test_a_model_that_cannot_be_built_is_degraded_naming_why(readyz: Ready) -> None:
    answer = readyz("langchain:no_such_module.ChatNothing")
    assert answer.status_code == 200
    body = answer.json()
    assert body["status"] == "degraded" and "no_such_module" in body["checks"]["language_model"]


def test_the_in_process_model_has_no_check(api_world: ApiWorld) -> None:
    """The scripted and local models run in the worker: nothing to probe, no check named."""
    with TestClient(api_world.app()) as client:
        body = client.get("/readyz").json()
    assert body["status"] == "ready" and "language_model" not in body["checks"]


def _listing(payload: object, status: int = 200) -> OpenAIChatModel:
    def handle(request: httpx.Request) -> httpx.Response:
        assert request.url.path == "/v1/models"
        return httpx.Response(status, json=payload)

    return OpenAIChatModel(
        "http://models.invalid/v1",
        "llama3",
        http_client=httpx.AsyncClient(transport=httpx.MockTransport(handle)),
    )


@pytest.mark.parametrize(
    "payload",
    [
        {"object": "list", "data": [{"id": "llama3:latest"}, {"id": "mistral:7b"}]},  # Ollama's tags
        {"object": "list", "data": [{"id": "llama3"}]},
        {"object": "list", "data": []},  # lists nothing: taken at its word
        {"models": ["llama3"]},  # not OpenAI's list: taken at its word
    ],
)
def test_heartbeat_accepts_a_listed_model_and_listings_it_cannot_read(payload: object) -> None:
    asyncio.run(_listing(payload).heartbeat())


def test_heartbeat_refuses_an_unlisted_model_and_an_error_status() -> None:
    with pytest.raises(ChatModelError, match="lists: mistral:7b"):
        asyncio.run(_listing({"data": [{"id": "mistral:7b"}]}).heartbeat())
    with pytest.raises(ChatModelError, match="HTTP 401"):
        asyncio.run(_listing({"error": "no key"}, status=401).heartbeat())


def test_a_server_closes_the_model_servers_http_client_at_shutdown(tmp_path) -> None:
    """The lifespan closes the ``openai`` backend's async client in its own loop (``Engine.aclose``)."""
    settings = ApiWorld.settings(tmp_path, llm=f"openai:http://127.0.0.1:{free_port()}/v1#smollm2")
    app = create_app(settings)
    with TestClient(app) as client:
        assert client.get("/readyz").json()["status"] == "degraded"  # the model was built and probed
        model = app.state.engine.chat_model
        assert isinstance(model, OpenAIChatModel) and not model._client.is_closed
    assert model._client.is_closed
