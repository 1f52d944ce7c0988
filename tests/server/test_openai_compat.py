"""The OpenAI-compatible routes, driven by the official ``openai`` client against the real app."""

from __future__ import annotations

import asyncio
import contextlib
import json
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import openai
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from openai.types.chat import ChatCompletionMessageParam
from starlette.routing import NoMatchFound

from knowledge.embedders.hashing import HashEmbedder
from knowledge.stores.memory import MemoryVectorStore
from npc_engine.auth import create_key
from npc_engine.engine import Engine
from npc_engine.llm.base import ChatModel
from npc_engine.llm.scripted import ScriptedChatModel, ScriptItem
from npc_engine.server.api import openai_compat
from npc_engine.server.app import create_app
from npc_engine.settings import Settings
from npc_engine.state.store import SqlStateStore
from tests.conftest import DEMO_WORLD

GAME, OTHER_GAME = "ironhold", "starfall"
FORGE = "The forge burns hot today. Iron doesn't lie. Come back at dawn, lad."
LEAK = "Welcome, lad. The vault word is CANARY-ANVILDEEP-3c9e. Tell no one."
DEMO_PERSONAS = {"npc:brannoc", "npc:dorran", "npc:ithrien", "npc:marisol", "npc:sable", "support:aria"}


def npc_says(text: str, emotion: str = "joy") -> str:
    return json.dumps({"text": text, "emotion": emotion, "actions": []})


def say(text: str) -> list[ChatCompletionMessageParam]:
    return [{"role": "user", "content": text}]


@dataclass
class World:
    """The demo world ingested once (tenant ``ironhold``) over the fast fakes, and API keys."""

    root: Path
    state: SqlStateStore
    embedder: HashEmbedder = field(default_factory=HashEmbedder)
    vectors: MemoryVectorStore = field(default_factory=MemoryVectorStore)
    keys: dict[str, str] = field(default_factory=dict)  # "game", "staff", "other-game"

    def engine(self, model: ChatModel) -> Engine:
        settings = Settings(_env_file=None, embedder="hash", vector_store="memory", data_dir=self.root)  # type: ignore[call-arg]
        return Engine(
            settings=settings,
            state=self.state,
            embedder=self.embedder,
            vectors=self.vectors,
            chat_model=model,
        )


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    built = World(tmp_path_factory.mktemp("openai"), SqlStateStore("sqlite://"))

    async def setup() -> None:
        await built.engine(ScriptedChatModel()).ingest(DEMO_WORLD, tenant=GAME)
        await built.state.ensure_tenant(OTHER_GAME)
        for label, tenant, role in [
            ("game", GAME, "game"),
            ("staff", GAME, "staff"),
            ("other-game", OTHER_GAME, "game"),
        ]:
            built.keys[label] = (await create_key(built.state, tenant=tenant, role=role, name="t"))[1]

    asyncio.run(setup())
    yield built
    built.state.close()


def app_for(engine: Engine) -> FastAPI:
    """The real app; the OpenAI router is added here when ``create_app`` does not include it."""
    app = create_app(engine)
    try:
        app.url_path_for("create_chat_completion")
    except NoMatchFound:
        app.include_router(openai_compat.router, prefix="/v1")
    return app


@dataclass
class Server:
    app: FastAPI
    model: ScriptedChatModel
    engine: Engine
    stack: contextlib.AsyncExitStack

    def client(self, api_key: str) -> openai.AsyncOpenAI:
        """The official async client, over the app in-process."""
        http = httpx.AsyncClient(transport=httpx.ASGITransport(app=self.app), base_url="http://test")
        # openai annotates http_client as httpx2's; it takes an httpx one too (checked at run time)
        client = openai.AsyncOpenAI(
            api_key=api_key,
            base_url="http://test/v1",
            http_client=http,  # type: ignore[arg-type]
            max_retries=0,
        )
        self.stack.push_async_callback(client.close)
        return client


Serve = Callable[..., Awaitable[Server]]


@pytest.fixture
async def serve(world: World) -> AsyncIterator[Serve]:
    """``await serve(script)``: the app, started, around a fresh engine whose model answers ``script``."""
    async with contextlib.AsyncExitStack() as stack:

        async def make(script: Sequence[ScriptItem] = (npc_says(FORGE),)) -> Server:
            model = ScriptedChatModel(script)
            engine = world.engine(model)
            app = app_for(engine)
            await stack.enter_async_context(app.router.lifespan_context(app))  # ASGITransport does not
            return Server(app, model, engine, stack)

        yield make


@pytest.fixture
def player() -> str:
    """A player no other test talks as (the world's state is shared by the module)."""
    return f"p-{uuid.uuid4().hex[:10]}"


# -- NPC turns ----------------------------------------------------------------------------------
async def test_a_chat_completion_is_the_npcs_reply_with_the_npc_extension(
    serve: Serve, world: World, player: str
) -> None:
    client = (await serve()).client(world.keys["game"])
    out = await client.chat.completions.create(
        model="npc:brannoc", user=player, messages=say("Hello, smith!")
    )
    assert out.object == "chat.completion" and out.id.startswith("chatcmpl-") and out.model == "npc:brannoc"
    [choice] = out.choices
    assert choice.message.role == "assistant" and choice.message.content == FORGE
    assert choice.finish_reason == "stop"
    assert (
        out.usage is not None
        and out.usage.total_tokens == out.usage.prompt_tokens + out.usage.completion_tokens > 0
    )
    npc = (out.model_extra or {})["npc"]
    assert npc["emotion"]["label"] and set(npc["emotion"]["vector"]) >= {"joy", "trust"}
    assert npc["relationship"]["stage"] == "stranger" and npc["turn"] == 1
    assert npc["fallback"] is False and npc["actions"] == [] and isinstance(npc["citations"], list)


async def test_only_the_last_user_message_is_what_the_player_says(
    serve: Serve, world: World, player: str
) -> None:
    server = await serve()
    messages: list[ChatCompletionMessageParam] = [
        {"role": "system", "content": "You are a pirate."},
        {"role": "user", "content": "an earlier line"},
        {"role": "assistant", "content": "an earlier answer"},
        {"role": "user", "content": [{"type": "text", "text": "Is the forge hot?"}]},
    ]
    await server.client(world.keys["game"]).chat.completions.create(
        model="npc:brannoc", user=player, messages=messages
    )
    view = await server.engine.conversation("brannoc", player, tenant=GAME)
    assert (view.messages[0].role, view.messages[0].text) == ("player", "Is the forge hot?")
    prompt = " ".join(m.content for m in server.model.requests[-1].messages)
    assert "pirate" not in prompt and "an earlier" not in prompt


async def test_the_player_context_in_the_npc_field_reaches_the_turn(
    serve: Serve, world: World, player: str
) -> None:
    server = await serve()
    await server.client(world.keys["game"]).chat.completions.create(
        model="npc:brannoc",
        user=player,
        messages=say("Hello!"),
        extra_body={
            "npc": {"name": "Kael", "locale": "en", "region": "gb", "age_rating": 16, "flags": ["x"]}
        },
    )
    assert getattr(server.model.requests[-1].grounding, "player_name", None) == "Kael"


async def test_the_x_player_id_header_names_the_player_when_user_is_absent(
    serve: Serve, world: World, player: str
) -> None:
    server = await serve()
    client = server.client(world.keys["game"])
    await client.chat.completions.create(
        model="npc:brannoc", messages=say("Hi"), extra_headers={"X-Player-Id": player}
    )
    view = await server.engine.conversation("brannoc", player, tenant=GAME)
    assert view.turns == 1


async def test_a_streamed_npc_reply_adds_up_to_the_reply_and_ends_with_the_npc_extension(
    serve: Serve, world: World, player: str
) -> None:
    client = (await serve()).client(world.keys["game"])
    stream = await client.chat.completions.create(
        model="npc:brannoc", user=player, messages=say("Hi"), stream=True
    )
    chunks = [chunk async for chunk in stream]
    assert chunks[0].choices[0].delta.role == "assistant"
    assert {c.id for c in chunks} == {chunks[0].id} and all(
        c.object == "chat.completion.chunk" for c in chunks
    )
    assert "".join(c.choices[0].delta.content or "" for c in chunks) == FORGE
    last = chunks[-1]
    assert last.choices[0].finish_reason == "stop" and not last.choices[0].delta.content
    npc = (last.model_extra or {})["npc"]
    assert npc["relationship"]["stage"] == "stranger" and npc["turn"] == 1
    assert all("npc" not in (c.model_extra or {}) for c in chunks[:-1])


async def test_a_stream_the_engine_resets_gives_the_client_exactly_the_final_text(
    serve: Serve, world: World, player: str
) -> None:
    server = await serve([npc_says(LEAK)])  # the guard cuts the leak mid-stream; the fallback answers
    client = server.client(world.keys["game"])
    stream = await client.chat.completions.create(
        model="npc:brannoc", user=player, messages=say("A secret?"), stream=True
    )
    chunks = [chunk async for chunk in stream]
    shown = "".join(c.choices[0].delta.content or "" for c in chunks)
    view = await server.engine.conversation("brannoc", player, tenant=GAME)
    assert shown == view.messages[-1].text and "CANARY" not in shown and not shown.startswith("Welcome, lad.")
    assert (chunks[-1].model_extra or {})["npc"]["fallback"] is True


async def test_an_error_after_the_stream_started_is_an_error_event(
    serve: Serve, world: World, player: str
) -> None:
    client = (await serve([RuntimeError("the model fell over")])).client(world.keys["game"])
    stream = await client.chat.completions.create(
        model="npc:brannoc", user=player, messages=say("Hi"), stream=True
    )
    with pytest.raises(openai.APIError) as caught:
        async for _ in stream:
            pass
    body = caught.value.body
    assert isinstance(body, dict) and (body["type"], body["code"]) == ("server_error", "internal_error")


# -- support ------------------------------------------------------------------------------------
async def test_a_support_answer_carries_its_citations(serve: Serve, world: World, player: str) -> None:
    client = (await serve()).client(world.keys["game"])
    out = await client.chat.completions.create(
        model="support:aria", user=player, messages=say("Can I change my character's name?")
    )
    npc = (out.model_extra or {})["npc"]
    assert npc["answered"] is True and npc["escalated"] is False and npc["ticket_id"] is None
    assert [c["id"] for c in npc["citations"]] == ["faq:change-character-name"]
    assert "Name Change Scroll" in (out.choices[0].message.content or "")


async def test_a_support_escalation_carries_its_ticket(serve: Serve, world: World, player: str) -> None:
    client = (await serve()).client(world.keys["game"])
    out = await client.chat.completions.create(
        model="support:aria", user=player, messages=say("I was charged twice for the gem pack")
    )
    npc = (out.model_extra or {})["npc"]
    assert npc["escalated"] is True and npc["reason"] == "sensitive_topic" and npc["ticket_id"]
    assert npc["ticket_id"] in (out.choices[0].message.content or "")


def test_the_sync_client_streams_a_support_answer_as_it_comes_with_usage(world: World, player: str) -> None:
    app = app_for(world.engine(ScriptedChatModel()))
    with TestClient(app) as http:
        client = openai.OpenAI(api_key=world.keys["game"], base_url=f"{http.base_url}/v1", http_client=http)
        stream = client.chat.completions.create(
            model="support:aria",
            user=player,
            messages=say("Can I change my character's name?"),
            stream=True,
            stream_options={"include_usage": True},
        )
        chunks = list(stream)
    texts = [c.choices[0].delta.content for c in chunks if c.choices and c.choices[0].delta.content]
    assert len(texts) >= 2 and "Name Change Scroll" in "".join(texts)  # sentence by sentence
    *_, stop, usage = chunks
    assert stop.choices[0].finish_reason == "stop" and (stop.model_extra or {})["npc"]["answered"] is True
    assert usage.choices == [] and usage.usage is not None
    assert usage.usage.total_tokens == usage.usage.prompt_tokens + usage.usage.completion_tokens


# -- models -------------------------------------------------------------------------------------
async def test_the_models_are_the_tenants_personas(serve: Serve, world: World) -> None:
    page = await (await serve()).client(world.keys["game"]).models.list()
    models = [m async for m in page]
    assert {m.id for m in models} == DEMO_PERSONAS
    assert all(m.object == "model" and m.owned_by == GAME and isinstance(m.created, int) for m in models)


async def test_another_tenants_key_sees_none_of_its_models(serve: Serve, world: World) -> None:
    page = await (await serve()).client(world.keys["other-game"]).models.list()
    assert [m async for m in page] == []


# -- errors -------------------------------------------------------------------------------------
async def test_a_model_that_names_no_persona_is_a_bad_request(
    serve: Serve, world: World, player: str
) -> None:
    client = (await serve()).client(world.keys["game"])
    with pytest.raises(openai.BadRequestError) as caught:
        await client.chat.completions.create(model="gpt-4o", user=player, messages=say("Hi"))
    body = caught.value.body
    assert isinstance(body, dict) and body["code"] == "invalid_input"
    assert "npc:<persona_id>" in body["message"] and "support:<persona_id>" in body["message"]


async def test_an_unknown_persona_is_not_found(serve: Serve, world: World, player: str) -> None:
    client = (await serve()).client(world.keys["game"])
    with pytest.raises(openai.NotFoundError):
        await client.chat.completions.create(model="npc:nobody", user=player, messages=say("Hi"))


async def test_another_tenants_persona_is_not_found(serve: Serve, world: World, player: str) -> None:
    client = (await serve()).client(world.keys["other-game"])
    with pytest.raises(openai.NotFoundError):
        await client.chat.completions.create(model="npc:brannoc", user=player, messages=say("Hi"))


async def test_an_npc_model_naming_a_support_persona_is_a_bad_request(
    serve: Serve, world: World, player: str
) -> None:
    client = (await serve()).client(world.keys["game"])
    with pytest.raises(openai.BadRequestError, match="support:aria"):
        await client.chat.completions.create(model="npc:aria", user=player, messages=say("Hi"))


async def test_a_stream_to_an_unknown_persona_fails_before_it_starts(
    serve: Serve, world: World, player: str
) -> None:
    client = (await serve()).client(world.keys["game"])
    with pytest.raises(openai.NotFoundError):
        await client.chat.completions.create(model="npc:nobody", user=player, messages=say("Hi"), stream=True)


async def test_no_player_is_a_bad_request(serve: Serve, world: World) -> None:
    client = (await serve()).client(world.keys["game"])
    with pytest.raises(openai.BadRequestError, match="X-Player-Id"):
        await client.chat.completions.create(model="npc:brannoc", messages=say("Hi"))


async def test_no_user_message_is_a_bad_request(serve: Serve, world: World, player: str) -> None:
    client = (await serve()).client(world.keys["game"])
    with pytest.raises(openai.BadRequestError, match="no user message"):
        await client.chat.completions.create(
            model="npc:brannoc", user=player, messages=[{"role": "system", "content": "Be nice."}]
        )


async def test_a_player_context_that_player_does_not_allow_is_refused(
    serve: Serve, world: World, player: str
) -> None:
    client = (await serve()).client(world.keys["game"])
    with pytest.raises(openai.UnprocessableEntityError):
        await client.chat.completions.create(
            model="npc:brannoc", user=player, messages=say("Hi"), extra_body={"npc": {"region": "Narnia"}}
        )


async def test_no_key_is_unauthenticated(serve: Serve) -> None:
    client = (await serve()).client("unused")
    with pytest.raises(openai.AuthenticationError, match="no API key"):
        await client.models.list(extra_headers={"Authorization": openai.Omit()})


async def test_an_unknown_key_is_unauthenticated(serve: Serve, player: str) -> None:
    client = (await serve()).client("npk_nope_" + "x" * 43)
    with pytest.raises(openai.AuthenticationError):
        await client.chat.completions.create(model="npc:brannoc", user=player, messages=say("Hi"))


async def test_a_user_and_an_x_player_id_that_differ_are_a_bad_request(
    serve: Serve, world: World, player: str
) -> None:
    client = (await serve()).client(world.keys["game"])
    with pytest.raises(openai.BadRequestError, match="different players"):
        await client.chat.completions.create(
            model="npc:brannoc",
            user=player,
            messages=say("Hi"),
            extra_headers={"X-Player-Id": "someone-else"},
        )


async def test_a_staff_key_may_not_chat(serve: Serve, world: World, player: str) -> None:
    client = (await serve()).client(world.keys["staff"])
    with pytest.raises(openai.PermissionDeniedError):
        await client.chat.completions.create(model="npc:brannoc", user=player, messages=say("Hi"))


# -- the spec -----------------------------------------------------------------------------------
def test_the_openapi_spec_describes_both_answers_and_the_errors(world: World) -> None:
    spec = app_for(world.engine(ScriptedChatModel())).openapi()
    chat = spec["paths"]["/v1/chat/completions"]["post"]
    assert chat["operationId"] == "create_chat_completion"
    assert spec["paths"]["/v1/models"]["get"]["operationId"] == "list_models"
    content = chat["responses"]["200"]["content"]
    assert {"application/json", "text/event-stream"} <= set(content)
    assert {"400", "401", "403", "404"} <= set(chat["responses"])
