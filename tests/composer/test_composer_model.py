"""The composer as a chat backend: the engine's JSON reply, streamed or not, from grounding only."""

from __future__ import annotations

import json

import pytest

from npc_engine.composer import ComposerChatModel, Grounding, LoreNote
from npc_engine.errors import ChatModelError, ConfigError
from npc_engine.llm import ChatMessage, ChatModel, ChatRequest
from npc_engine.llm.factory import make_chat_model
from personas import NpcPersona, load_persona
from tests.conftest import DEMO_WORLD

TITHE = LoreNote(
    "ironhold/forge-tithe",
    "The Forge-Tithe",
    "Every dwarven smith owes Ironhold a tithe of twelve crowns, paid on Kindling Day.",
)


def brannoc() -> NpcPersona:
    persona = load_persona(DEMO_WORLD / "personas" / "brannoc.yaml")
    assert isinstance(persona, NpcPersona)
    return persona


def request(grounding: object | None) -> ChatRequest:
    return ChatRequest(messages=[ChatMessage("user", "How much is the tithe?")], grounding=grounding)


GROUNDED = request(Grounding(brannoc(), "How much is the tithe?", "en", lore=[TITHE], emotion="anger"))


async def test_generate_returns_the_reply_as_json_with_text_emotion_and_no_actions() -> None:
    result = await ComposerChatModel().generate(GROUNDED)
    reply = json.loads(result.text)
    assert set(reply) == {"text", "emotion", "actions"}
    assert "twelve crowns" in reply["text"]
    assert reply["emotion"] == "anger" and reply["actions"] == []


async def test_generate_reports_citations_tokens_and_model() -> None:
    result = await ComposerChatModel().generate(GROUNDED)
    assert result.extra == {"cited": ["ironhold/forge-tithe"]}
    assert result.prompt_tokens == 0 and result.completion_tokens > 0
    assert result.model == "composer"


async def test_non_ascii_replies_are_written_as_is() -> None:
    zh = request(Grounding(brannoc(), "你好", "zh"))
    text = (await ComposerChatModel().generate(zh)).text
    assert "\\u" not in text and any("\u4e00" <= ch <= "\u9fff" for ch in json.loads(text)["text"])


async def test_stream_concatenates_to_what_generate_returns() -> None:
    model = ComposerChatModel()
    chunks = [chunk async for chunk in model.stream(GROUNDED)]
    assert len(chunks) > 1
    assert "".join(chunks) == (await model.generate(GROUNDED)).text


async def test_generate_without_grounding_is_a_chat_model_error() -> None:
    with pytest.raises(ChatModelError, match="only engine turns that carry grounding"):
        await ComposerChatModel().generate(request(None))


async def test_stream_without_grounding_is_a_chat_model_error() -> None:
    with pytest.raises(ChatModelError, match="only engine turns that carry grounding"):
        _ = [chunk async for chunk in ComposerChatModel().stream(request({"persona": "brannoc"}))]


async def test_make_chat_model_builds_the_composer_by_its_id() -> None:
    model = make_chat_model("composer")
    assert isinstance(model, ComposerChatModel) and isinstance(model, ChatModel)
    assert model.id == "composer"
    assert json.loads((await model.generate(GROUNDED)).text)["actions"] == []


def test_an_unknown_chat_model_id_lists_the_composer() -> None:
    with pytest.raises(ConfigError, match="composer"):
        make_chat_model("gpt5")
