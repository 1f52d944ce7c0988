"""Chat-model backends behind the one seam: LangChain models and in-process llama.cpp."""

from __future__ import annotations

import pytest

from npc_engine.errors import ConfigError
from npc_engine.llm import ChatMessage, ChatModel, ChatRequest
from npc_engine.llm.factory import make_chat_model
from npc_engine.llm.langchain import LangChainChatModel

REQUEST = ChatRequest(
    messages=[ChatMessage("system", "You are Brannoc, a gruff smith."), ChatMessage("user", "Hello!")],
    max_tokens=48,
    temperature=0.2,
)


async def test_a_langchain_chat_model_answers_and_streams_through_the_seam() -> None:
    from langchain_core.language_models.fake_chat_models import FakeListChatModel

    model = LangChainChatModel(FakeListChatModel(responses=["Aye, lad.", "Mind the sparks."]))
    assert isinstance(model, ChatModel)
    assert (await model.generate(REQUEST)).text == "Aye, lad."
    assert "".join([c async for c in model.stream(REQUEST)]) == "Mind the sparks."


async def test_a_langchain_id_loads_the_class_by_its_dotted_name() -> None:
    model = make_chat_model("langchain:langchain_core.language_models.fake_chat_models.FakeChatModel")
    assert model.id.endswith("FakeChatModel")
    assert (await model.generate(REQUEST)).text == "fake response"


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("gpt5", "unknown chat model"),
        ("langchain:nonexistent_pkg.Model", "pip install nonexistent-pkg"),
        ("langchain:NoDots", "write langchain:<module>.<Class>"),
        ("langchain:langchain_core.language_models.fake_chat_models.FakeListChatModel", "without arguments"),
    ],
)
def test_a_bad_backend_id_says_how_to_fix_it(spec: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        make_chat_model(spec)
