"""The in-process mode: the same resources, calling a real engine (over fakes) with no HTTP."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable, Iterator

import pytest
from npc_engine_sdk import (
    AsyncNpcClient,
    BadRequestError,
    ConversationView,
    EventOutcome,
    NotFoundError,
    NpcClient,
    NpcReply,
    SupportReply,
    Ticket,
    TurnDelta,
    UnprocessableEntityError,
)
from npc_engine_sdk.resources.world import pack_world

from npc_engine.engine import Engine
from tests.turn.conftest import DEMO_WORLD

MakeEngine = Callable[..., Engine]
JOY = json.dumps({"text": "Aye, the forge is hot today, lad.", "emotion": "joy", "actions": []})


@pytest.fixture
def engine(make_engine: MakeEngine) -> Engine:
    return make_engine([JOY])


@pytest.fixture
def client(engine: Engine) -> Iterator[NpcClient]:
    with NpcClient.in_process(engine) as client:
        yield client


@pytest.fixture
async def aclient(engine: Engine) -> AsyncIterator[AsyncNpcClient]:
    async with AsyncNpcClient.in_process(engine) as client:
        yield client


def test_an_npc_turn_returns_the_sdks_reply_with_emotion(client: NpcClient, player: str) -> None:
    reply = client.npcs.turn("brannoc", player=player, text="Hello smith, how is the forge?")
    assert isinstance(reply, NpcReply)
    assert reply.text == "Aye, the forge is hot today, lad."
    assert reply.player_id == player and reply.turn == 1
    assert set(reply.emotion.vector) >= {"joy", "trust", "fear"} and reply.relationship.stage == "stranger"
    assert reply.usage.prompt_tokens > 0


def test_debug_is_empty_unless_asked_for(client: NpcClient, player: str) -> None:
    assert client.npcs.turn("brannoc", player=player, text="Hello").debug == {}
    assert client.npcs.turn("brannoc", player=player, text="Hello again", debug=True).debug


def test_a_stream_yields_deltas_then_the_reply(client: NpcClient, player: str) -> None:
    with client.npcs.stream("brannoc", player=player, text="When should I come back?") as stream:
        items = list(stream)
    assert items and all(isinstance(i, TurnDelta) for i in items[:-1]) and len(items) > 1
    reply = items[-1]
    assert isinstance(reply, NpcReply) and reply.text == "Aye, the forge is hot today, lad."
    assert "".join(i.text for i in items[:-1] if isinstance(i, TurnDelta)) == reply.text


def test_a_stream_closed_early_leaves_the_client_usable(client: NpcClient, player: str) -> None:
    stream = client.npcs.stream("brannoc", player=player, text="Hello")
    next(stream)
    stream.close()
    assert client.npcs.turn("brannoc", player=player, text="Hello again").text


def test_an_event_changes_the_relationship(client: NpcClient, player: str) -> None:
    outcome = client.npcs.event("brannoc", player=player, event="gift_received", magnitude=3)
    assert isinstance(outcome, EventOutcome)
    assert outcome.applied and outcome.event == "gift_received" and outcome.player_id == player
    assert outcome.relationship.axes


def test_the_conversation_shows_the_turn_and_reset_forgets_it(client: NpcClient, player: str) -> None:
    client.npcs.turn("brannoc", player=player, text="Hello there")
    view = client.npcs.conversation("brannoc", player, limit=10)
    assert isinstance(view, ConversationView) and view.turns == 1
    assert [(m.role, m.text) for m in view.messages] == [
        ("player", "Hello there"),
        ("npc", "Aye, the forge is hot today, lad."),
    ]
    client.npcs.reset("brannoc", player)
    with pytest.raises(NotFoundError):
        client.npcs.conversation("brannoc", player)


def test_an_unknown_persona_raises_not_found(client: NpcClient, player: str) -> None:
    with pytest.raises(NotFoundError) as raised:
        client.npcs.turn("nobody", player=player, text="Hello")
    err = raised.value
    assert (err.status_code, err.code, err.request_id) == (404, "not_found", None)
    assert "nobody" in err.message


def test_an_unknown_persona_raises_not_found_from_a_stream(client: NpcClient, player: str) -> None:
    with pytest.raises(NotFoundError):
        list(client.npcs.stream("nobody", player=player, text="Hello"))


def test_an_empty_message_is_a_bad_request(client: NpcClient, player: str) -> None:
    with pytest.raises(BadRequestError) as raised:
        client.npcs.turn("brannoc", player=player, text="   ")
    assert raised.value.code == "invalid_input"


def test_an_invalid_event_is_unprocessable(client: NpcClient, player: str) -> None:
    with pytest.raises(UnprocessableEntityError):
        client.npcs.event("brannoc", player=player, event={"type": "gift", "magnitude": 99})


def test_a_support_turn_answers_from_the_faq(client: NpcClient, player: str) -> None:
    reply = client.support.turn("aria", player=player, text="Can I change my character's name?")
    assert isinstance(reply, SupportReply)
    assert reply.answered and not reply.escalated
    assert [c.id for c in reply.citations] == ["faq:change-character-name"]


def test_a_support_stream_ends_with_the_support_reply(client: NpcClient, player: str) -> None:
    items = list(client.support.stream("aria", player=player, text="Can I change my character's name?"))
    assert isinstance(items[-1], SupportReply) and items[-1].answered


def test_an_escalation_can_be_worked_through_the_ticket_resource(client: NpcClient, player: str) -> None:
    escalated = client.support.turn("aria", player=player, text="I want to talk to a human please")
    assert escalated.escalated and escalated.ticket_id
    ticket = client.tickets.get(escalated.ticket_id)
    assert isinstance(ticket, Ticket) and ticket.status == "open" and ticket.player_id == player
    page = client.tickets.list(status="open", limit=1000)
    assert escalated.ticket_id in [t.ticket_id for t in page.tickets] and page.total >= 1
    sent = client.tickets.reply(escalated.ticket_id, text="A person will help you now.")
    assert sent.staff == "in-process"
    claimed = client.support.claim_replies(player, persona_id="aria")
    assert [r.text for r in claimed] == ["A person will help you now."]
    assert client.support.claim_replies(player) == []  # each reply is handed out once
    waiting = client.tickets.set_status(escalated.ticket_id, status="waiting_on_player", staff="Alice")
    assert waiting.status == "waiting_on_player"
    resolved = client.tickets.resolve(escalated.ticket_id, resolution="Renamed.", reply_to_player=False)
    assert resolved.status == "resolved"
    actions = [e.action for e in client.tickets.events(escalated.ticket_id)]
    assert actions[0] == "created" and actions[-1] == "resolved" and "replied" in actions


def test_an_unknown_ticket_raises_not_found(client: NpcClient) -> None:
    with pytest.raises(NotFoundError):
        client.tickets.get("T-NOPE")


def test_personas_are_listed_and_read(client: NpcClient) -> None:
    personas = {p.id: p for p in client.personas.list()}
    assert personas["brannoc"].kind == "npc" and personas["aria"].kind == "support"
    assert personas["brannoc"].name
    assert client.personas.get("brannoc")["id"] == "brannoc"


def test_the_tenant_defaults_to_the_engines(client: NpcClient, engine: Engine) -> None:
    assert client.base_url == f"in-process://{engine.settings.tenant}" and client.api_key is None


def test_another_tenant_sees_only_its_own_world(engine: Engine, player: str) -> None:
    with (
        NpcClient.in_process(engine, tenant="elsewhere") as client,
        pytest.raises(NotFoundError, match="elsewhere"),
    ):
        client.npcs.turn("brannoc", player=player, text="Hello")


def test_a_copy_with_options_shares_the_engine_and_closing_it_stops_nothing(
    client: NpcClient, player: str
) -> None:
    with client.with_options(max_retries=5) as copy:
        assert copy.npcs.turn("brannoc", player=player, text="Hello").turn == 1
    assert client.npcs.turn("brannoc", player=player, text="Hello again").turn == 2


def test_a_closed_in_process_client_refuses_calls(engine: Engine, player: str) -> None:
    client = NpcClient.in_process(engine)
    client.close()
    with pytest.raises(RuntimeError, match="closed"):
        client.npcs.turn("brannoc", player=player, text="Hello")


def test_in_process_needs_an_engine() -> None:
    with pytest.raises(TypeError, match="Engine"):
        NpcClient.in_process(object())  # type: ignore[arg-type]


async def test_the_async_client_awaits_the_engine(aclient: AsyncNpcClient, player: str) -> None:
    reply = await aclient.npcs.turn("brannoc", player=player, text="Hello smith")
    assert isinstance(reply, NpcReply) and reply.emotion.vector
    outcome = await aclient.npcs.event("brannoc", player=player, event={"type": "attacked"})
    assert outcome.event == "attacked"
    view = await aclient.npcs.conversation("brannoc", player)
    assert view.turns == 1
    await aclient.npcs.reset("brannoc", player)
    with pytest.raises(NotFoundError):
        await aclient.npcs.conversation("brannoc", player)


async def test_the_async_stream_yields_deltas_then_the_reply(aclient: AsyncNpcClient, player: str) -> None:
    items = [item async for item in aclient.npcs.stream("brannoc", player=player, text="Hello")]
    assert isinstance(items[0], TurnDelta) and isinstance(items[-1], NpcReply)


async def test_sync_and_async_in_process_replies_are_the_same_type(
    client: NpcClient, aclient: AsyncNpcClient, player: str
) -> None:
    a = client.support.turn("aria", player=player + "-s", text="Can I change my character's name?")
    b = await aclient.support.turn("aria", player=player + "-a", text="Can I change my character's name?")
    assert type(a) is type(b) and a.citations == b.citations and a.text == b.text


def test_a_world_is_ingested_from_a_folder(make_engine: MakeEngine) -> None:
    with NpcClient.in_process(make_engine(), tenant="sdk-folder") as client:
        result = client.world.ingest(DEMO_WORLD)
        assert result.world_changed and result.personas and result.chunks_embedded
        assert {p.id for p in client.personas.list()} >= {"brannoc", "aria"}


def test_a_world_is_ingested_from_bytes_and_unchanged_bytes_change_nothing(make_engine: MakeEngine) -> None:
    archive = pack_world(DEMO_WORLD)
    with NpcClient.in_process(make_engine(), tenant="sdk-bytes") as client:
        first = client.world.ingest(archive)
        again = client.world.ingest(archive)
    assert first.world_changed and first.chunks_embedded
    assert not again.world_changed and again.chunks_embedded == 0 and again.personas == first.personas
