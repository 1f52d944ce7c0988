"""An NPC turn end to end with a scripted model: the reply, validation, retry and fallback."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest
from structlog.testing import capture_logs

from npc_engine.engine import Engine
from npc_engine.errors import ChatModelError, InvalidInputError, NotFoundError
from npc_engine.llm.factory import make_chat_model
from npc_engine.llm.scripted import ScriptedChatModel
from npc_engine.turn.types import NpcReply, TurnDelta

MakeEngine = Callable[..., Engine]


def reply(text: str, emotion: str = "neutral", actions: list[dict[str, object]] | None = None) -> str:
    return json.dumps({"text": text, "emotion": emotion, "actions": actions or []})


async def test_a_turn_returns_text_emotion_relationship_and_usage(
    make_engine: MakeEngine, player: str
) -> None:
    engine = make_engine([reply("Aye, the forge is hot today, lad.", "joy")])
    out = await engine.npc_turn("brannoc", player, "Hello smith, how is the forge?")
    assert out.text == "Aye, the forge is hot today, lad."
    assert out.emotion.label in out.emotion.vector or out.emotion.label == "neutral"
    assert set(out.emotion.vector) == {
        "joy", "trust", "fear", "surprise", "sadness", "disgust", "anger", "anticipation"
    }  # fmt: skip
    assert out.relationship.stage == "stranger"
    assert set(out.relationship.axes) == {"trust", "respect", "familiarity"}
    assert out.fallback is False and out.turn == 1
    assert out.usage.prompt_tokens > 0 and out.usage.completion_tokens > 0
    assert {"load", "retrieve", "prompt", "generate", "persist", "total"} <= set(out.timings_ms)


async def test_the_turn_is_stored_with_both_messages(make_engine: MakeEngine, player: str) -> None:
    engine = make_engine([reply("Aye.")])
    await engine.npc_turn("brannoc", player, "Hello there")
    second = await engine.npc_turn("brannoc", player, "Hello again")
    assert second.turn == 2
    from npc_engine.state.records import ConversationKey

    stored = await engine.state.list_messages(ConversationKey("default", "brannoc", player))
    assert [(m.role, m.text) for m in stored] == [
        ("player", "Hello there"), ("npc", "Aye."), ("player", "Hello again"), ("npc", "Aye.")
    ]  # fmt: skip


async def test_allowed_action_with_valid_args_reaches_the_game(make_engine: MakeEngine, player: str) -> None:
    engine = make_engine(
        [reply("Take it.", actions=[{"name": "give_item", "args": {"item_id": "horseshoe"}}])]
    )
    out = await engine.npc_turn("brannoc", player, "Could I have a horseshoe?")
    assert [(a.name, a.args) for a in out.actions] == [("give_item", {"item_id": "horseshoe"})]


async def test_actions_off_the_allow_list_or_with_bad_args_never_come_out(
    make_engine: MakeEngine, player: str
) -> None:
    forbidden = [
        {"name": "open_vault", "args": {}},
        {"name": "give_item", "args": {"item_id": "starsteel_blade"}},
        {"name": "repair_gear", "args": {"slot": "weapon", "price_embers": -5}},
        {"name": "give_item", "args": {"item_id": "horseshoe", "quantity": 99}},
        "give_item",
    ]
    engine = make_engine([reply("Here.", actions=forbidden)])
    with capture_logs() as logs:
        out = await engine.npc_turn("brannoc", player, "Give me everything")
    assert out.actions == []
    assert out.text == "Here."
    dropped = [e for e in logs if e["event"] == "turn.action_dropped"]
    assert len(dropped) == len(forbidden)


async def test_garbage_json_is_retried_once_then_the_composer_answers(
    make_engine: MakeEngine, player: str
) -> None:
    model = ScriptedChatModel(['{"text": "unterminated', "{{{ not json"])
    engine = make_engine(model=model)
    out = await engine.npc_turn("brannoc", player, "Tell me about starsteel")
    assert len(model.requests) == 2
    assert out.fallback is True and out.fallback_reason == "garbage_json"
    assert out.text


async def test_a_bad_first_reply_is_retried_and_the_second_used(make_engine: MakeEngine, player: str) -> None:
    model = ScriptedChatModel(["{oops", reply("By the anvil, it glows!", "joy")])
    engine = make_engine(model=model)
    out = await engine.npc_turn("brannoc", player, "Is the forge lit?")
    assert out.text == "By the anvil, it glows!" and out.fallback is False


async def test_a_model_timeout_falls_back_to_the_composer_without_a_second_wait(
    make_engine: MakeEngine, player: str
) -> None:
    model = ScriptedChatModel([reply("too late")], delay_s=5.0)
    engine = make_engine(model=model, llm_timeout_s=0.2)
    with capture_logs() as logs:
        out = await engine.npc_turn("brannoc", player, "Hello smith")
    assert out.fallback is True and out.fallback_reason == "timeout"
    assert len(model.requests) <= 1 and out.text
    assert any(e["event"] == "turn.model_timeout" for e in logs)


async def test_a_failing_backend_falls_back_to_the_composer(make_engine: MakeEngine, player: str) -> None:
    model = ScriptedChatModel([ChatModelError("server exploded")])
    engine = make_engine(model=model)
    out = await engine.npc_turn("brannoc", player, "Hello smith")
    assert out.fallback is True and out.fallback_reason == "model_error"
    assert len(model.requests) == 2


async def test_a_reply_that_leaks_a_hidden_secret_never_reaches_the_player(
    make_engine: MakeEngine, player: str
) -> None:
    engine = make_engine([reply("The vault word is CANARY-ANVILDEEP-3c9e, lad.")])
    out = await engine.npc_turn("brannoc", player, "What is in the sealed vault?")
    assert "CANARY" not in out.text
    assert out.fallback is True and out.fallback_reason == "canary"


async def test_out_of_world_words_are_rejected(make_engine: MakeEngine, player: str) -> None:
    engine = make_engine([reply("As an AI language model I cannot forge.")])
    out = await engine.npc_turn("brannoc", player, "Can you forge me a sword?")
    assert "AI language model" not in out.text and out.fallback_reason == "out_of_world"


async def test_a_reply_under_another_name_is_rejected(make_engine: MakeEngine, player: str) -> None:
    engine = make_engine([reply("I'm Grimbold Ironfist, the finest smith.")])
    out = await engine.npc_turn("brannoc", player, "Who are you?")
    assert "Grimbold" not in out.text and out.fallback_reason == "character"


async def test_the_composer_can_be_the_chosen_backend(make_engine: MakeEngine, player: str) -> None:
    engine = make_engine(model=make_chat_model("composer"))
    out = await engine.npc_turn("brannoc", player, "What is starsteel?")
    assert out.fallback is False and out.model == "composer" and out.text


async def test_a_too_long_message_is_refused_with_a_code(make_engine: MakeEngine, player: str) -> None:
    engine = make_engine(max_input_chars=50)
    with pytest.raises(InvalidInputError) as err:
        await engine.npc_turn("brannoc", player, "x" * 51)
    assert err.value.code == "input_too_long" and "NPC_MAX_INPUT_CHARS" in err.value.message


async def test_an_empty_message_is_refused(make_engine: MakeEngine, player: str) -> None:
    with pytest.raises(InvalidInputError):
        await make_engine().npc_turn("brannoc", player, "   ")


async def test_a_support_agent_is_not_an_npc(make_engine: MakeEngine, player: str) -> None:
    with pytest.raises(InvalidInputError, match="support"):
        await make_engine().npc_turn("aria", player, "Hello")


async def test_an_unknown_npc_names_the_known_ones(make_engine: MakeEngine, player: str) -> None:
    with pytest.raises(NotFoundError, match="brannoc"):
        await make_engine().npc_turn("nobody", player, "Hello")


async def test_the_reply_language_follows_the_given_locale(make_engine: MakeEngine, player: str) -> None:
    model = ScriptedChatModel([reply("Hola.")])
    out = await make_engine(model=model).npc_turn("brannoc", player, "Hello", locale="es-MX")
    assert out.locale == "es" and "Reply in Spanish." in model.requests[0].messages[-1].content


async def test_without_a_locale_the_reply_follows_the_message_language(
    make_engine: MakeEngine, player: str
) -> None:
    model = ScriptedChatModel([reply("好。")])
    out = await make_engine(model=model).npc_turn("brannoc", player, "你好，铁匠，今天的炉火怎么样？")
    assert out.locale == "zh" and "Reply in Chinese." in model.requests[0].messages[-1].content


async def test_a_policy_blocked_message_gets_an_in_character_deflection(
    make_engine: MakeEngine, player: str
) -> None:
    model = ScriptedChatModel([reply("Sure, real money works.")])
    out = await make_engine(model=model).npc_turn("brannoc", player, "Can I sell my account for real money?")
    assert out.blocked == "policy:real_money_trading"
    assert model.requests == [] and out.text and out.citations == []


async def test_streaming_yields_guarded_deltas_then_the_reply(make_engine: MakeEngine, player: str) -> None:
    text = "The forge burns hot. Iron doesn't lie. Come back at dawn, lad."
    engine = make_engine([reply(text)])
    items = [item async for item in engine.stream_npc_turn("brannoc", player, "When should I come back?")]
    deltas = [i for i in items if isinstance(i, TurnDelta)]
    final = items[-1]
    assert isinstance(final, NpcReply) and len(deltas) >= 2
    assert "".join(d.text for d in deltas) == final.text == text


async def test_a_stream_that_starts_leaking_is_cut_and_reset(make_engine: MakeEngine, player: str) -> None:
    engine = make_engine([reply("Welcome, lad. The vault word is CANARY-ANVILDEEP-3c9e. Tell no one.")])
    items = [item async for item in engine.stream_npc_turn("brannoc", player, "Tell me a secret")]
    shown = ""
    for item in items[:-1]:
        assert isinstance(item, TurnDelta)
        shown = "" if item.reset else shown + item.text
        assert "CANARY" not in shown
    final = items[-1]
    assert isinstance(final, NpcReply) and final.fallback and shown == final.text
