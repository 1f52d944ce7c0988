"""The fakes a server can be configured with (``NPC_LLM=scripted``, ``NPC_EMBEDDER=hash``) keep
nothing per call: a soak of ``bench/load.py`` once measured a scripted server's memory growing
by every prompt it had recorded (291 MB over 30,525 turns) rather than the engine's."""

from __future__ import annotations

import asyncio

from npc_engine.backends import make_embedder
from npc_engine.llm import ChatMessage, ChatRequest
from npc_engine.llm.factory import make_chat_model
from npc_engine.llm.scripted import ScriptedChatModel
from npc_engine.settings import Settings

REQUEST = ChatRequest(messages=[ChatMessage("user", "Hello!")], max_tokens=16)


def test_the_scripted_model_a_server_builds_counts_calls_and_keeps_no_request() -> None:
    model = make_chat_model("scripted:Aye.")
    assert isinstance(model, ScriptedChatModel)

    async def go() -> None:
        for _ in range(3):
            await model.generate(REQUEST)
        assert "".join([p async for p in model.stream(REQUEST)])

    asyncio.run(go())
    assert (model.calls, model.requests) == (4, [])


def test_a_scripted_model_in_tests_records_every_request_and_follows_its_script() -> None:
    model = ScriptedChatModel(["one", "two"])
    texts = [asyncio.run(model.generate(REQUEST)).text for _ in range(3)]
    assert texts == ["one", "two", "two"] and model.requests == [REQUEST] * 3 and model.calls == 3


def test_the_hash_embedder_a_server_builds_keeps_no_text() -> None:
    embedder = make_embedder(Settings(_env_file=None, embedder="hash"))  # type: ignore[call-arg]
    vectors = asyncio.run(embedder.embed(["a secret the player typed"], kind="query"))
    assert vectors.shape == (1, 256)
    assert embedder.calls == []  # type: ignore[attr-defined]
