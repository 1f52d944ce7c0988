"""The support turn on the demo world: answer with a citation, or escalate with a ticket."""

from __future__ import annotations

import json

import pytest
from structlog.testing import capture_logs

from npc_engine.errors import InvalidInputError
from npc_engine.llm.scripted import ScriptedChatModel
from npc_engine.support.tickets import TicketFilter
from npc_engine.support.types import SupportReply
from npc_engine.turn.types import TurnDelta
from tests.turn.conftest import MakeEngine

EMAIL, PHONE, CARD = "kael.smith@example.com", "+44 20 7946 0958", "4111 1111 1111 1111"


async def test_a_question_in_the_faq_is_answered_from_it_with_a_citation(
    make_engine: MakeEngine, player: str
) -> None:
    engine = make_engine()
    reply = await engine.support_turn("aria", player, "Can I change my character's name?")
    assert reply.answered and not reply.escalated and reply.ticket_id is None
    assert [c.id for c in reply.citations] == ["faq:change-character-name"]
    assert "Name Change Scroll" in reply.text and "500 Ember Gems" in reply.text
    assert reply.category == "account" and reply.confidence >= 0.55


async def test_asking_for_a_human_opens_a_ticket_and_says_what_happens_next(
    make_engine: MakeEngine, player: str
) -> None:
    engine = make_engine()
    await engine.support_turn("aria", player, "Can I change my character's name?")
    reply = await engine.support_turn("aria", player, "I want to talk to a human please")
    assert reply.escalated and not reply.answered and reply.reason == "human_requested"
    assert reply.ticket_id and reply.ticket_id in reply.text
    ticket = await engine.desk.get("default", reply.ticket_id)
    assert ticket.reason == "human_requested" and ticket.status == "open"
    assert [m["role"] for m in ticket.transcript] == ["player", "agent", "player"]
    assert ticket.transcript[-1]["text"] == "I want to talk to a human please"
    assert ticket.summary and ticket.sources_tried


@pytest.mark.parametrize(
    ("message", "topic", "priority"),
    [
        ("I was charged twice for the gem pack", "payments", "high"),
        ("I want a refund for my purchase", "refunds", "normal"),
        ("My account got hacked and my items are gone", "account_security", "urgent"),
        ("我的账号被盗了", "account_security", "urgent"),
    ],
)
async def test_a_sensitive_topic_is_escalated_with_its_priority(
    make_engine: MakeEngine, player: str, message: str, topic: str, priority: str
) -> None:
    reply = await make_engine().support_turn("aria", player, message)
    assert reply.escalated and reply.reason == "sensitive_topic"
    ticket = await make_engine().desk.get("default", reply.ticket_id or "")
    assert topic in ticket.reason_detail and ticket.priority == priority


async def test_an_angry_player_is_escalated(make_engine: MakeEngine, player: str) -> None:
    reply = await make_engine().support_turn("aria", player, "This game is a useless SCAM, I'm furious!!!")
    assert reply.escalated and reply.reason == "negative_sentiment"


async def test_repeated_failed_answers_escalate(make_engine: MakeEngine, player: str) -> None:
    engine = make_engine()
    first = await engine.support_turn("aria", player, "How do I turn on two-step verification?")
    second = await engine.support_turn(
        "aria", player, "That didn't help. How do I turn on two-step verification?"
    )
    assert first.answered and second.answered  # one failure so far; aria allows 2
    third = await engine.support_turn(
        "aria", player, "Still not working. How do I turn on two-step verification?"
    )
    assert third.escalated and third.reason == "repeated_failure"


async def test_a_question_the_knowledge_base_cannot_support_is_escalated(
    make_engine: MakeEngine, player: str
) -> None:
    reply = await make_engine().support_turn(
        "aria", player, "Which constellation did the astronomers of Qarth chart in the ninth age?"
    )
    assert reply.escalated and reply.reason in ("low_confidence", "no_knowledge")
    assert not reply.citations


async def test_seeded_pii_never_reaches_the_index_logs_summary_or_suggested_reply(
    make_engine: MakeEngine, player: str
) -> None:
    engine = make_engine()
    message = f"I want a refund, my card {CARD} was charged; mail {EMAIL} or call {PHONE}"
    with capture_logs() as logs:
        reply = await engine.support_turn("aria", player, message)
        ticket = await engine.desk.get("default", reply.ticket_id or "")
        await engine.desk.resolve(
            "default", ticket.ticket_id, staff="sam", resolution=f"Refunded to card {CARD}; wrote to {EMAIL}."
        )
    assert ticket.transcript[-1]["text"] == message  # the original stays for staff
    leaked = [EMAIL, PHONE, CARD, "4111111111111111"]
    for text in (ticket.summary, ticket.suggested_reply, ticket.question_redacted, json.dumps(logs)):
        assert not any(value in text for value in leaked)
    chunks = await engine.state.load_chunks("default")
    assert f"ticket:{ticket.ticket_id}" in {c.source_id for c in chunks}
    assert not any(value in c.text or value in json.dumps(c.metadata) for c in chunks for value in leaked)


async def test_a_staff_reply_reaches_the_player_once_on_the_next_call(
    make_engine: MakeEngine, player: str
) -> None:
    engine = make_engine()
    escalated = await engine.support_turn("aria", player, "let me speak to an agent")
    await engine.desk.reply(
        "default", escalated.ticket_id or "", staff="sam", text="Hi! I am looking into it."
    )
    after = await engine.support_turn("aria", player, "Can I change my character's name?")
    assert [(r.staff, r.text) for r in after.staff_replies] == [("sam", "Hi! I am looking into it.")]
    again = await engine.support_turn("aria", player, "Can I change my character's name?")
    assert again.staff_replies == []


async def test_a_resolved_ticket_is_found_by_a_paraphrase_afterwards(
    make_engine: MakeEngine, player: str
) -> None:
    engine = make_engine()
    question = "I need a human: my pet glimmerfox vanished from the stable after the patch"
    reply = await engine.support_turn("aria", player, question)
    assert reply.escalated
    await engine.desk.resolve(
        "default",
        reply.ticket_id or "",
        staff="sam",
        resolution="Glimmerfox pets return after a relog; we restored it from the stable backup.",
    )
    hits = await engine.knowledge().search("glimmerfox pet vanished stable", kinds=("faq", "ticket"), k=3)
    assert hits[0].source_id == f"ticket:{reply.ticket_id}"
    queue = await engine.desk.list("default", TicketFilter(status="resolved", limit=500))
    assert reply.ticket_id in {t.ticket_id for t in queue}


async def test_a_chinese_question_is_answered_in_chinese_from_the_chinese_faq(
    make_engine: MakeEngine, player: str
) -> None:
    reply = await make_engine().support_turn("aria", player, "为什么要做实名认证？怎么认证？")
    assert reply.locale == "zh" and reply.answered
    assert reply.citations[0].id == "faq:zh-real-name-verification"
    assert "实名认证" in reply.text


async def test_an_adapted_answer_that_invents_a_number_is_discarded(
    make_engine: MakeEngine, player: str
) -> None:
    invented = json.dumps({"text": "Sí. Usa un pergamino (9999 gemas) desde Ajustes."})
    engine = make_engine(model=ScriptedChatModel([invented]))
    reply = await engine.support_turn("aria", player, "Can I change my character's name?", locale="es")
    assert reply.answered and not reply.adapted
    assert "500 Ember Gems" in reply.text and "9999" not in reply.text


@pytest.mark.parametrize("text", ["", "   ", "\x00\x01\x02"])
async def test_an_empty_message_is_a_clear_error(make_engine: MakeEngine, player: str, text: str) -> None:
    with pytest.raises(InvalidInputError, match=r"empty|printable"):
        await make_engine().support_turn("aria", player, text)


async def test_a_1mb_message_is_refused_and_loses_no_ticket(make_engine: MakeEngine, player: str) -> None:
    engine = make_engine()
    first = await engine.support_turn("aria", player, "talk to a human")
    with pytest.raises(InvalidInputError) as caught:
        await engine.support_turn("aria", player, "x" * 1_000_000)
    assert caught.value.code == "input_too_long"
    assert (await engine.desk.get("default", first.ticket_id or "")).status == "open"


@pytest.mark.parametrize(
    "text",
    ["How do I\x1b[31m reset my password?\x07", "Мой аккаунт 账号 hacked? パスワード", "🙂🙂🙂 ??? !!!"],
)
async def test_control_characters_and_mixed_scripts_get_an_answer_or_an_escalation(
    make_engine: MakeEngine, player: str, text: str
) -> None:
    reply = await make_engine().support_turn("aria", player, text)
    assert reply.answered != reply.escalated and reply.text


async def test_an_npc_cannot_take_a_support_turn(make_engine: MakeEngine, player: str) -> None:
    with pytest.raises(InvalidInputError, match="NPC"):
        await make_engine().support_turn("brannoc", player, "hello")


async def test_a_streamed_support_turn_yields_the_answer_in_pieces_then_the_reply(
    make_engine: MakeEngine, player: str
) -> None:
    items = [
        item
        async for item in make_engine().stream_support_turn("aria", player, "How do I delete my account?")
    ]
    reply = items[-1]
    assert isinstance(reply, SupportReply) and reply.answered
    pieces = [i.text for i in items[:-1] if isinstance(i, TurnDelta)]
    assert len(pieces) > 1 and "".join(pieces) == reply.text


async def test_what_the_player_writes_after_a_staff_reply_reopens_the_ticket(
    make_engine: MakeEngine, player: str
) -> None:
    engine = make_engine()
    escalated = await engine.support_turn("aria", player, "let me speak to an agent")
    ticket_id = escalated.ticket_id or ""
    await engine.desk.reply("default", ticket_id, staff="sam", text="Which character is it?")
    assert (await engine.desk.get("default", ticket_id)).status == "waiting_on_player"
    await engine.support_turn("aria", player, "Can I change my character's name? It is Kael.")
    ticket = await engine.desk.get("default", ticket_id)
    assert ticket.status == "open"
    assert ticket.transcript[-1]["text"] == "Can I change my character's name? It is Kael."
