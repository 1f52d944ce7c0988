"""The scripted ChatModel fake: deterministic, records requests, can fail on cue."""

from __future__ import annotations

import pytest

from npc_engine.errors import ChatModelTimeout
from npc_engine.llm import ChatMessage, ChatModel, ChatRequest, ScriptedChatModel

REQUEST = ChatRequest(messages=[ChatMessage("user", "hello there")])


async def test_replies_follow_the_script_and_the_last_repeats() -> None:
    model = ScriptedChatModel(["one", "two"])
    assert [(await model.generate(REQUEST)).text for _ in range(3)] == ["one", "two", "two"]
    assert len(model.requests) == 3 and model.requests[0] is REQUEST


async def test_an_exception_in_the_script_is_raised() -> None:
    model = ScriptedChatModel([ChatModelTimeout("slow")])
    with pytest.raises(ChatModelTimeout):
        await model.generate(REQUEST)


async def test_a_callable_sees_the_request_and_streaming_concatenates_to_the_reply() -> None:
    model = ScriptedChatModel([lambda req: "echo: " + req.messages[-1].content])
    chunks = [c async for c in model.stream(REQUEST)]
    assert "".join(chunks) == "echo: hello there" and len(chunks) > 1


def test_it_satisfies_the_chat_model_protocol() -> None:
    assert isinstance(ScriptedChatModel(), ChatModel)
