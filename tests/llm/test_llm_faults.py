"""When the LLM server misbehaves: the ``openai`` backend and the engine in front of a FaultyOpenAIServer.

The server answers at once with a well-formed reply, except on the share of calls it is told
to fail: 500/503/429, hangs, trickles, dropped connections, garbage. Whatever it does, every
turn is answered (the grounded composer, with the reason) within a bound, never a 500 or a
hang; once it heals, the same engine uses the model again.

What the backend retries (``OpenAIChatModel``, ``retries=1``): a 5xx or a dropped connection
once, at once; not a 429 (see :func:`test_a_429_is_not_retried_by_the_backend`), not a
malformed answer, not a timeout. The NPC turn retries any model error once more, then falls
back; a timeout goes straight to the fallback.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from knowledge.embedders.hashing import HashEmbedder
from knowledge.stores.memory import MemoryVectorStore
from npc_engine.auth import create_key
from npc_engine.engine import Engine
from npc_engine.errors import ChatModelError, ChatModelTimeout, ConfigError
from npc_engine.llm import ChatMessage, ChatRequest, ScriptedChatModel
from npc_engine.llm.factory import make_chat_model
from npc_engine.llm.faulty import FAULT_KINDS, WRONG_SHAPES, FaultyOpenAIServer
from npc_engine.llm.openai_compat import OpenAIChatModel
from npc_engine.server.app import create_app
from npc_engine.settings import Settings
from npc_engine.state.store import SqlStateStore
from npc_engine.turn.types import NpcReply

DEMO_WORLD = Path(__file__).resolve().parents[2] / "examples" / "demo_world"
T = 1.0  # llm_timeout_s: what a hang costs
BOUND = 3 * T  # no turn takes longer than this, whatever the server does
MIXED = {"error": 0.15, "garbage": 0.15, "drop": 0.05, "hang": 0.03, "trickle": 0.02}  # 40% of calls
ALL_BAD = {"error": 0.4, "garbage": 0.3, "drop": 0.2, "hang": 0.05, "trickle": 0.05}  # every call
REASON = {kind: "model_error" for kind in FAULT_KINDS} | {
    "hang": "timeout",
    "trickle": "timeout",
    "off_schema": "empty",  # well-formed, but no reply text in it
}
MESSAGES = [ChatMessage("system", "You are Brannoc, a gruff smith."), ChatMessage("user", "Hello there!")]


@dataclass
class World:
    root: Path
    state: SqlStateStore
    embedder: HashEmbedder
    vectors: MemoryVectorStore
    game_key: str

    def settings(self) -> Settings:
        return Settings(  # type: ignore[call-arg]
            _env_file=None,
            embedder="hash",
            vector_store="memory",
            data_dir=self.root,
            llm_timeout_s=T,
            request_timeout_s=4 * BOUND,  # a turn that runs past BOUND is a failure, not a 504
        )


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    """The demo world, ingested once with the fast fakes, and a game key."""
    root = tmp_path_factory.mktemp("llm-faults")
    state = SqlStateStore(f"sqlite:///{root / 'state.db'}")
    world = World(root, state, HashEmbedder(), MemoryVectorStore(), "")
    engine = Engine(
        settings=world.settings(),
        state=state,
        embedder=world.embedder,
        vectors=world.vectors,
        chat_model=ScriptedChatModel(),
    )

    async def setup() -> None:
        await engine.ingest(DEMO_WORLD)
        _, world.game_key = await create_key(state, tenant="default", role="game", name="game server")

    asyncio.run(setup())
    yield world
    state.close()


@pytest.fixture(scope="module")
def module_server() -> Iterator[FaultyOpenAIServer]:
    with FaultyOpenAIServer(seed=0) as server:
        yield server


@pytest.fixture
def server(module_server: FaultyOpenAIServer) -> FaultyOpenAIServer:
    """The module's server, healthy, with no calls recorded and its choices reseeded."""
    module_server.reset(seed=0)
    return module_server


@pytest.fixture
async def engine(world: World, server: FaultyOpenAIServer) -> AsyncIterator[Engine]:
    """An engine whose chat model is ``openai:<the faulty server>#faulty``."""
    model = make_chat_model(server.spec)
    assert isinstance(model, OpenAIChatModel)
    yield Engine(
        settings=world.settings(),
        state=world.state,
        embedder=world.embedder,
        vectors=world.vectors,
        chat_model=model,
    )
    await model.aclose()


@pytest.fixture
async def model(server: FaultyOpenAIServer) -> AsyncIterator[OpenAIChatModel]:
    chat = OpenAIChatModel(server.url, server.model, retries=1)
    yield chat
    await chat.aclose()


@pytest.fixture
def player() -> str:
    return f"p-{uuid.uuid4().hex[:10]}"


async def turn(engine: Engine, player: str, text: str = "Hello smith") -> tuple[NpcReply, float]:
    """The reply and how long it took; a turn that runs past BOUND fails the test (the hang detector)."""
    started = time.perf_counter()
    reply = await asyncio.wait_for(engine.npc_turn("brannoc", player, text), BOUND)
    return reply, time.perf_counter() - started


async def streamed_turn(engine: Engine, player: str, text: str = "Hello smith") -> tuple[NpcReply, str, int]:
    """The reply, the text a client shows at the end (everything after the last reset), and the resets."""

    async def run() -> tuple[NpcReply, str, int]:
        shown, resets = "", 0
        async for item in engine.stream_npc_turn("brannoc", player, text):
            if isinstance(item, NpcReply):
                return item, shown, resets
            if item.reset:
                shown, resets = "", resets + 1
            shown += item.text
        raise AssertionError("the stream ended without a reply")

    return await asyncio.wait_for(run(), BOUND)


def request(*, max_tokens: int = 64, timeout_s: float = T) -> ChatRequest:
    return ChatRequest(messages=MESSAGES, max_tokens=max_tokens, timeout_s=timeout_s)


# -- the NPC turn under each fault ---------------------------------------------------------------
@pytest.mark.parametrize("kind", FAULT_KINDS)
async def test_a_turn_is_answered_by_the_fallback_under_every_fault(
    engine: Engine, server: FaultyOpenAIServer, player: str, kind: str
) -> None:
    server.faults = {kind: 1.0}
    reply, seconds = await turn(engine, player)
    assert reply.fallback and reply.fallback_reason == REASON[kind]
    assert reply.text.strip() and seconds < BOUND
    assert server.calls and {c.fault for c in server.calls} == {kind}


@pytest.mark.parametrize("kind", FAULT_KINDS)
async def test_a_streamed_turn_under_every_fault_ends_with_the_text_it_showed(
    engine: Engine, server: FaultyOpenAIServer, player: str, kind: str
) -> None:
    server.faults = {kind: 1.0}
    reply, shown, _ = await streamed_turn(engine, player)
    assert reply.fallback and reply.fallback_reason == REASON[kind]
    assert shown == reply.text and reply.text.strip()


async def test_a_healthy_server_answers_turns_with_the_model(
    engine: Engine, server: FaultyOpenAIServer, player: str
) -> None:
    reply, _ = await turn(engine, player)
    _, shown, resets = await streamed_turn(engine, player)
    assert not reply.fallback and reply.model == "openai:faulty"
    assert reply.text == shown == "Aye, the forge is hot today. What brings you to my anvil?" and resets == 0
    assert [c.fault for c in server.calls] == [None, None]


async def test_a_turn_asks_the_server_for_the_configured_max_tokens(
    engine: Engine, server: FaultyOpenAIServer, player: str
) -> None:
    await turn(engine, player)
    assert server.calls[-1].body["max_tokens"] == engine.settings.reply_max_tokens


# -- faults mixed with answers -------------------------------------------------------------------
async def test_under_a_40_percent_fault_share_every_turn_is_answered(
    engine: Engine, server: FaultyOpenAIServer, player: str
) -> None:
    """A turn falls back exactly when every call it made failed; the model answers the rest."""
    server.faults = MIXED
    replies = []
    for i in range(30):
        before = len(server.calls)
        reply, seconds = await turn(engine, player, f"Hello smith, question {i}")
        made = server.calls[before:]
        assert made and seconds < BOUND
        assert reply.fallback == all(c.fault is not None for c in made), (reply.fallback_reason, made)
        replies.append(reply)
    by_model = sum(not r.fallback for r in replies) / len(replies)
    healthy_calls = sum(c.fault is None for c in server.calls) / len(server.calls)
    assert by_model >= healthy_calls - 0.1 and by_model >= 1 - sum(MIXED.values()) - 0.1
    assert {r.fallback_reason for r in replies if r.fallback} <= {"model_error", "timeout", "empty"}


async def test_streamed_turns_under_a_fault_share_end_with_the_text_they_showed(
    engine: Engine, server: FaultyOpenAIServer, player: str
) -> None:
    server.faults = {
        "http_503": 0.2,
        "not_json": 0.1,
        "wrong_shape": 0.1,
        "off_schema": 0.05,
        "hang": 0.05,
        "drop": 0.1,
        "truncated_json": 0.05,
    }
    for i in range(10):
        reply, shown, _ = await streamed_turn(engine, player, f"Hello smith, question {i}")
        assert shown == reply.text and reply.text.strip()


@pytest.mark.parametrize("kind", ["drop", "truncated_json"])
async def test_a_stream_broken_mid_reply_and_retried_shows_only_the_retry(
    engine: Engine, server: FaultyOpenAIServer, player: str, kind: str
) -> None:
    server.plan(kind, None)
    reply, shown, resets = await streamed_turn(engine, player)
    assert not reply.fallback and [c.fault for c in server.calls] == [kind, None]
    assert shown == reply.text and resets == 1


async def test_the_same_engine_uses_the_model_again_once_the_server_heals(
    engine: Engine, server: FaultyOpenAIServer, player: str
) -> None:
    server.faults = ALL_BAD
    broken = [(await turn(engine, player, f"Hello {i}"))[0] for i in range(4)]
    server.faults = {}
    healed = [(await turn(engine, player, f"Hello again {i}"))[0] for i in range(2)]
    _, shown, _ = await streamed_turn(engine, player)
    assert all(r.fallback for r in broken)
    assert not any(r.fallback for r in healed) and {r.model for r in healed} == {"openai:faulty"}
    assert shown == healed[0].text


# -- over HTTP -----------------------------------------------------------------------------------
@pytest.fixture
async def client(engine: Engine, world: World) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=create_app(engine))
    headers = {"Authorization": f"Bearer {world.game_key}"}
    async with httpx.AsyncClient(transport=transport, base_url="http://npc.test", headers=headers) as http:
        yield http


def sse(body: str) -> list[tuple[str, dict]]:
    events = []
    for frame in body.strip().split("\n\n"):
        fields = dict(line.split(": ", 1) for line in frame.splitlines())
        events.append((fields["event"], json.loads(fields["data"])))
    return events


async def test_over_http_every_turn_under_faults_is_a_200_with_the_fallback(
    client: httpx.AsyncClient, server: FaultyOpenAIServer, player: str
) -> None:
    server.faults = ALL_BAD
    answers = []
    for i in range(8):
        body = {"player": {"id": player}, "text": f"Hello smith {i}", "stream": i % 4 == 3}
        started = time.perf_counter()
        answer = await asyncio.wait_for(client.post("/v1/npcs/brannoc/turns", json=body), BOUND)
        assert time.perf_counter() - started < BOUND
        answers.append(answer)
    assert [a.status_code for a in answers] == [200] * 8
    replies = [
        a.json() if not a.headers["content-type"].startswith("text/event-stream") else sse(a.text)[-1][1]
        for a in answers
    ]
    assert all(r["fallback"] and r["fallback_reason"] and r["text"] for r in replies)
    assert [sse(a.text)[-1][0] for a in answers[3::4]] == ["reply", "reply"]


async def test_over_http_the_model_answers_again_once_the_server_heals(
    client: httpx.AsyncClient, server: FaultyOpenAIServer, player: str
) -> None:
    server.faults = ALL_BAD
    body = {"player": {"id": player}, "text": "Hello smith"}
    broken = await client.post("/v1/npcs/brannoc/turns", json=body)
    server.faults = {}
    healed = await client.post("/v1/npcs/brannoc/turns", json=body)
    assert broken.status_code == healed.status_code == 200
    assert broken.json()["fallback"] and not healed.json()["fallback"]


def restate(body: dict) -> str:
    """A faithful adaptation: the support answer, restated word for word."""
    return json.dumps({"text": body["messages"][-1]["content"].split("ANSWER (data): ", 1)[1]})


@pytest.mark.parametrize("kind", ["http_503", "hang", "trickle", "drop", "wrong_shape"])
async def test_over_http_a_support_turn_under_faults_answers_from_its_source(
    client: httpx.AsyncClient, server: FaultyOpenAIServer, player: str, kind: str
) -> None:
    """A Spanish question answered from an English FAQ entry: the model would restate it."""
    server.reply = restate
    body = {"player": {"id": player}, "text": "Can I change my character's name?", "locale": "es"}
    server.faults = {kind: 1.0}
    started = time.perf_counter()
    broken = await asyncio.wait_for(client.post("/v1/support/aria/turns", json=body), BOUND)
    seconds = time.perf_counter() - started
    server.faults = {}
    healed = await asyncio.wait_for(client.post("/v1/support/aria/turns", json=body), BOUND)
    assert broken.status_code == healed.status_code == 200 and seconds < BOUND
    assert broken.json()["answered"] and not broken.json()["adapted"]
    assert "500 Ember Gems" in broken.json()["text"]
    assert healed.json()["answered"] and healed.json()["adapted"]
    assert [c.fault for c in server.calls][-1] is None and kind in {c.fault for c in server.calls}


# -- the openai backend itself -------------------------------------------------------------------
async def test_a_503_is_retried_once_by_the_backend(
    model: OpenAIChatModel, server: FaultyOpenAIServer
) -> None:
    server.plan("http_503", None)
    result = await model.generate(request())
    assert result.text and [c.fault for c in server.calls] == ["http_503", None]


async def test_a_second_503_is_a_clear_backend_error(
    model: OpenAIChatModel, server: FaultyOpenAIServer
) -> None:
    server.plan("http_503", "http_503", None)
    with pytest.raises(ChatModelError, match=r"failed after 2 attempts.*503"):
        await model.generate(request())
    assert len(server.calls) == 2


async def test_a_dropped_connection_is_retried_once_by_the_backend(
    model: OpenAIChatModel, server: FaultyOpenAIServer
) -> None:
    server.plan("drop", None)
    result = await model.generate(request())
    assert result.text and [c.fault for c in server.calls] == ["drop", None]


async def test_a_429_is_not_retried_by_the_backend(
    model: OpenAIChatModel, server: FaultyOpenAIServer
) -> None:
    """Decided: a 429 is not retried here. Its Retry-After (seconds) is longer than a player waits;
    the turn retries once, then the composer answers at once. Callers that can wait retry it."""
    server.plan("http_429", None)
    with pytest.raises(ChatModelError, match="HTTP 429") as caught:
        await model.generate(request())
    assert not isinstance(caught.value, ChatModelTimeout) and len(server.calls) == 1


async def test_a_stream_is_not_retried_by_the_backend(
    model: OpenAIChatModel, server: FaultyOpenAIServer
) -> None:
    server.plan("http_503", None)
    with pytest.raises(ChatModelError, match="HTTP 503"):
        _ = [piece async for piece in model.stream(request())]
    assert len(server.calls) == 1


async def test_max_tokens_is_sent_and_honoured(model: OpenAIChatModel, server: FaultyOpenAIServer) -> None:
    result = await model.generate(request(max_tokens=4))
    assert server.calls[-1].body["max_tokens"] == 4
    assert result.completion_tokens == 4 and result.finish_reason == "length"
    pieces = [p async for p in model.stream(request(max_tokens=4))]
    assert server.calls[-1].body["max_tokens"] == 4 and len(pieces) == 4


@pytest.mark.parametrize("kind", ["hang", "trickle"])
async def test_an_answer_that_does_not_arrive_in_time_raises_a_timeout(
    model: OpenAIChatModel, server: FaultyOpenAIServer, kind: str
) -> None:
    """``timeout_s`` bounds the whole call: an answer that keeps coming, slowly, times out too."""
    server.faults = {kind: 1.0}
    started = time.perf_counter()
    with pytest.raises(ChatModelTimeout):
        await asyncio.wait_for(model.generate(request()), BOUND)
    assert time.perf_counter() - started < 1.5 * T and len(server.calls) == 1


async def test_a_stalled_stream_raises_a_timeout(model: OpenAIChatModel, server: FaultyOpenAIServer) -> None:
    server.faults = {"hang": 1.0}
    pieces: list[str] = []
    started = time.perf_counter()
    with pytest.raises(ChatModelTimeout, match="stalled"):
        async for piece in model.stream(request()):
            pieces.append(piece)
    assert pieces and time.perf_counter() - started < 1.5 * T


async def test_every_wrong_shape_is_a_clear_backend_error(
    model: OpenAIChatModel, server: FaultyOpenAIServer
) -> None:
    """JSON with ``choices`` of the wrong types (a null message, a number for text ...) is a model
    error, for a reply and for a stream, never a TypeError or AttributeError."""
    server.faults = {"wrong_shape": 1.0}
    for _ in WRONG_SHAPES:
        with pytest.raises(ChatModelError, match="malformed"):
            await model.generate(request())
    for _ in WRONG_SHAPES:
        with pytest.raises(ChatModelError, match="malformed"):
            _ = [piece async for piece in model.stream(request())]


@pytest.mark.parametrize("kind", ["not_json", "truncated_json", "no_choices"])
async def test_garbage_is_a_clear_backend_error(
    model: OpenAIChatModel, server: FaultyOpenAIServer, kind: str
) -> None:
    server.faults = {kind: 1.0}
    with pytest.raises(ChatModelError, match="malformed"):
        await model.generate(request())
    with pytest.raises(ChatModelError, match="malformed"):
        _ = [piece async for piece in model.stream(request())]
    assert len(server.calls) == 2  # not retried: the same server would say the same


# -- in front of a real server -------------------------------------------------------------------
@pytest.fixture(scope="module")
def llama(llama_server: str) -> str:
    """The session's llama.cpp server with the bundled GGUF (``tests/conftest.py``)."""
    return llama_server


@pytest.mark.slow
async def test_in_front_of_a_real_llama_server_faults_are_survived_and_it_answers_again(llama: str) -> None:
    with FaultyOpenAIServer(llama, model="smollm2") as proxy:
        model = OpenAIChatModel(proxy.url, "smollm2")
        slow = request(max_tokens=8, timeout_s=60)
        try:
            proxy.plan("http_503", None)  # retried by the backend: the real model answers
            answered = await model.generate(slow)
            proxy.plan("drop", "truncated_json")
            for _ in range(2):
                with pytest.raises(ChatModelError):
                    _ = [piece async for piece in model.stream(slow)]
            pieces = [piece async for piece in model.stream(slow)]
            listed = httpx.get(f"{proxy.url}/models").json()
        finally:
            await model.aclose()
    assert answered.text.strip() and 0 < answered.completion_tokens <= 8
    assert [c.fault for c in proxy.calls] == ["http_503", None, "drop", "truncated_json", None]
    assert len(pieces) > 1 and "".join(pieces).strip()
    assert "smollm2" in {m["id"] for m in listed["data"]}


# -- the fault server itself ---------------------------------------------------------------------
async def test_the_same_seed_gives_the_same_faults(
    model: OpenAIChatModel, server: FaultyOpenAIServer
) -> None:
    runs = []
    for _ in range(2):
        server.reset(seed=7)
        server.faults = {"error": 0.3, "garbage": 0.3}
        for _ in range(12):
            with contextlib.suppress(ChatModelError):
                await model.generate(request())
        runs.append([c.fault for c in server.calls])
    assert runs[0] == runs[1] and {None, "http_500"} <= set(runs[0])


def test_the_fault_server_refuses_unknown_faults_and_shares_over_one(server: FaultyOpenAIServer) -> None:
    with pytest.raises(ConfigError, match="unknown fault 'timeout'"):
        server.faults = {"timeout": 0.5}
    with pytest.raises(ConfigError, match="sum to at most 1"):
        server.faults = {"error": 0.7, "hang": 0.4}
    with pytest.raises(ConfigError, match="unknown fault"):
        server.plan("error")  # a group: plan names the fault itself
    assert server.faults == {}
