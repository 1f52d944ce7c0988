"""Memory through turns: facts recalled for the same player only; old history folded into a summary.

On SQLite and on the real PostgreSQL: memories, their vectors and the summary are rows of the state store.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable

import pytest

from npc_engine.engine import Engine
from npc_engine.llm.scripted import ScriptedChatModel
from npc_engine.state.records import ConversationKey
from npc_engine.state.store import SqlStateStore

MakeEngine = Callable[..., Engine]
OK = json.dumps({"text": "Aye.", "emotion": "neutral", "actions": []})


@pytest.fixture
def make_engine(make_engine: MakeEngine, turn_state: SqlStateStore) -> MakeEngine:
    return functools.partial(make_engine, state=turn_state)


def prompt_of(model: ScriptedChatModel, index: int = -1) -> str:
    return "\n".join(m.content for m in model.requests[index].messages)


async def test_an_npc_remembers_what_a_player_told_it(make_engine: MakeEngine, player: str) -> None:
    model = ScriptedChatModel([OK])
    engine = make_engine(model=model)
    await engine.npc_turn("brannoc", player, "My name is Kaelith and I love fishing.")
    await engine.npc_turn("brannoc", player, "Do you remember me?")
    assert "Kaelith" in prompt_of(model).split("What you remember about this player:")[1]


async def test_memories_of_one_player_never_enter_a_turn_with_another(
    make_engine: MakeEngine, player: str
) -> None:
    model = ScriptedChatModel([OK])
    engine = make_engine(model=model)
    await engine.npc_turn("brannoc", player, "My name is Kaelith and I love fishing.")
    await engine.npc_turn("brannoc", player + "-other", "Do you remember me? What is my name?")
    other_prompt = prompt_of(model)
    assert "Kaelith" not in other_prompt and "fishing" not in other_prompt


async def test_memories_of_a_player_stay_with_the_npc_they_told(make_engine: MakeEngine, player: str) -> None:
    model = ScriptedChatModel([OK])
    engine = make_engine(model=model)
    await engine.npc_turn("brannoc", player, "My name is Kaelith.")
    await engine.npc_turn("marisol", player, "Do you know my name?")
    assert "Kaelith" not in prompt_of(model)


async def test_forgetting_a_player_erases_every_npc_memory_of_them(
    make_engine: MakeEngine, player: str
) -> None:
    engine = make_engine([OK])
    await engine.npc_turn("brannoc", player, "My name is Kaelith.")
    await engine.npc_turn("sable", player, "I am from Saltmere.")
    assert await engine.state.forget_player("default", player) > 0
    for npc in ("brannoc", "sable"):
        conv = await engine.state.load_conversation(ConversationKey("default", npc, player))
        assert conv.version == 0 and conv.memories == ()


async def test_history_past_its_budget_is_folded_into_a_summary(make_engine: MakeEngine, player: str) -> None:
    model = ScriptedChatModel(
        [json.dumps({"text": "Aye, I hear you. " * 6, "emotion": "neutral", "actions": []})]
    )
    engine = make_engine(model=model, prompt_budget=1700, npc_lore_k=1)  # room for a full summary
    for i in range(14):
        await engine.npc_turn("brannoc", player, f"Tell me about the forge, question number {i}.")
    conv = await engine.state.load_conversation(ConversationKey("default", "brannoc", player))
    assert conv.summarised_upto > 0 and conv.summary
    assert "Earlier in this conversation:" in prompt_of(model)
    assert all(len(r.messages) for r in model.requests)
    assert max(sum(len(m.content) for m in r.messages) for r in model.requests) < 1700 * 6
