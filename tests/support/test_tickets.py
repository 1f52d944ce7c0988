"""Support tickets: the desk's rules over the SQL store, on SQLite and on the real PostgreSQL."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from structlog.testing import capture_logs

from npc_engine.errors import ConflictError, InvalidInputError, NotFoundError
from npc_engine.state.records import ConversationKey, TurnWrite
from npc_engine.state.store import SqlStateStore
from npc_engine.support.desk import TRANSITIONS, TicketDesk
from npc_engine.support.pii import PiiRedactor
from npc_engine.support.tickets import NewTicket, Ticket, TicketFilter
from tests.turn.conftest import Clock

PERSONA = "mira"
EMAIL = "jo.doe@example.com"


@pytest.fixture
def state_url(state_url_any: str) -> str:
    return state_url_any


@pytest.fixture
def store(state_url: str) -> Iterator[SqlStateStore]:
    state = SqlStateStore(state_url)
    yield state
    state.close()


@pytest.fixture
def tenant() -> str:
    return f"t-{uuid.uuid4().hex[:10]}"


@pytest.fixture
def desk_clock() -> Clock:
    return Clock()


@pytest.fixture
def desk(store: SqlStateStore, desk_clock: Clock) -> TicketDesk:
    return TicketDesk(store, redactor=PiiRedactor(), clock=desk_clock)


def escalation(tenant: str, player: str = "p1", **over: Any) -> NewTicket:
    fields: dict[str, Any] = {
        "tenant": tenant,
        "persona_id": PERSONA,
        "player_id": player,
        "locale": "en",
        "category": "payments",
        "priority": "normal",
        "reason": "sensitive_topic",
        "reason_detail": "payments",
        "question_redacted": "I was charged twice",
        "summary": "Player reports a double charge.",
        "suggested_reply": "We are checking the payment.",
        "sources_tried": [{"id": "faq/refunds#1", "kind": "faq", "title": "Refunds", "category": "payments"}],
        "transcript": [{"role": "player", "text": "I was charged twice", "at": 1.0}],
        "created_at": 1_700_000_000.0,
    }
    fields.update(over)
    return NewTicket(**fields)


def actions(events: Any) -> list[tuple[str, str]]:
    return [(e.actor, e.action) for e in events]


# -- lifecycle ---------------------------------------------------------------------------------
async def test_an_escalation_opens_a_ticket_with_every_field_and_a_created_event(
    desk: TicketDesk, tenant: str
) -> None:
    ticket = await desk.open(escalation(tenant))
    assert ticket.ticket_id.startswith("T-") and len(ticket.ticket_id) == 14
    assert (ticket.status, ticket.version, ticket.category, ticket.reason) == (
        "open",
        1,
        "payments",
        "sensitive_topic",
    )
    assert await desk.get(tenant, ticket.ticket_id) == ticket
    assert ticket.sources_tried[0]["id"] == "faq/refunds#1"
    events = await desk.events(tenant, ticket.ticket_id)
    assert actions(events) == [("engine", "created")]
    assert events[0].detail == {"category": "payments", "priority": "normal", "reason": "sensitive_topic"}


async def test_the_queue_puts_urgent_first_then_the_oldest(desk: TicketDesk, tenant: str) -> None:
    made = {}
    for i, (player, priority) in enumerate([("a", "low"), ("b", "urgent"), ("c", "normal"), ("d", "urgent")]):
        made[player] = await desk.open(escalation(tenant, player, priority=priority, created_at=100.0 + i))
    queue = await desk.list(tenant)
    assert [t.player_id for t in queue] == ["b", "d", "c", "a"]


async def test_the_queue_filters_by_status_priority_category_and_age(
    desk: TicketDesk, tenant: str, desk_clock: Clock
) -> None:
    now = desk_clock()
    await desk.open(escalation(tenant, "old", priority="high", created_at=now - 7200))
    new = await desk.open(escalation(tenant, "new", category="bans", created_at=now - 60))
    await desk.reply(tenant, new.ticket_id, staff="alice", text="Looking into it.")

    async def ids(**filt: Any) -> list[str]:
        found = await desk.list(tenant, TicketFilter(**filt))
        unpaged = {k: v for k, v in filt.items() if k not in ("limit", "offset")}
        assert await desk.count(tenant, TicketFilter(**unpaged)) == (len(found) if unpaged else 2)
        return [t.player_id for t in found]

    assert await ids(status="open") == ["old"]
    assert await ids(status="waiting_on_player") == ["new"]
    assert await ids(priority="high") == ["old"]
    assert await ids(category="bans") == ["new"]
    assert await ids(min_age_s=3600) == ["old"]
    assert await ids(max_age_s=3600) == ["new"]
    assert await ids(limit=1, offset=1) == ["new"]
    with pytest.raises(InvalidInputError):
        await desk.list(tenant, TicketFilter(status="closed"))  # type: ignore[arg-type]
    with pytest.raises(InvalidInputError):
        await desk.list(tenant, TicketFilter(limit=0))


async def test_a_staff_reply_reaches_the_player_once_and_is_kept_in_conversation_and_transcript(
    desk: TicketDesk, store: SqlStateStore, tenant: str
) -> None:
    ticket = await desk.open(escalation(tenant))
    reply = await desk.reply(tenant, ticket.ticket_id, staff="alice", text="  We refunded you.  ")
    assert (reply.text, reply.staff, reply.delivered_at) == ("We refunded you.", "alice", None)
    after = await desk.get(tenant, ticket.ticket_id)
    assert after.status == "waiting_on_player" and after.version == 2
    assert after.transcript[-1] | {"at": 0} == {
        "role": "staff",
        "text": "We refunded you.",
        "staff": "alice",
        "at": 0,
    }
    stored = await store.list_messages(ConversationKey(tenant, PERSONA, "p1"))
    assert [(m.role, m.text, m.meta["ticket_id"]) for m in stored] == [
        ("staff", "We refunded you.", ticket.ticket_id)
    ]
    peek = await desk.pending_replies(tenant, "p1", mark_delivered=False)
    assert [r.reply_id for r in peek] == [reply.reply_id]
    delivered = await desk.pending_replies(tenant, "p1", persona_id=PERSONA)
    assert [r.text for r in delivered] == ["We refunded you."] and delivered[0].delivered_at is not None
    assert await desk.pending_replies(tenant, "p1") == []


async def test_pending_replies_are_per_player_and_persona(desk: TicketDesk, tenant: str) -> None:
    first = await desk.open(escalation(tenant, "p1"))
    await desk.open(escalation(tenant, "p2"))
    await desk.reply(tenant, first.ticket_id, staff="alice", text="For p1.")
    assert await desk.pending_replies(tenant, "p2") == []
    assert await desk.pending_replies(tenant, "p1", persona_id="someone-else") == []
    assert [r.text for r in await desk.pending_replies(tenant, "p1", persona_id=PERSONA)] == ["For p1."]


async def test_the_player_writing_again_reopens_the_ticket(desk: TicketDesk, tenant: str) -> None:
    ticket = await desk.open(escalation(tenant))
    await desk.reply(tenant, ticket.ticket_id, staff="alice", text="Which card?")
    reopened = await desk.player_wrote(tenant, PERSONA, "p1", "The visa one")
    assert reopened is not None and reopened.status == "open"
    assert reopened.transcript[-1]["role"] == "player" and reopened.transcript[-1]["text"] == "The visa one"
    assert await desk.player_wrote(tenant, PERSONA, "nobody", "hello") is None


async def test_resolving_stores_the_resolution_redacted_and_sends_it_as_written(
    desk: TicketDesk, tenant: str
) -> None:
    ticket = await desk.open(escalation(tenant))
    text = f"Refunded; the receipt went to {EMAIL}."
    resolved = await desk.resolve(tenant, ticket.ticket_id, staff="bob", resolution=text)
    assert resolved.status == "resolved" and resolved.resolved_by == "bob" and resolved.resolved_at
    assert EMAIL not in resolved.resolution and "[email]" in resolved.resolution
    assert [r.text for r in await desk.pending_replies(tenant, "p1")] == [text]
    assert actions(await desk.events(tenant, ticket.ticket_id))[-2:] == [
        ("bob", "replied"),
        ("bob", "resolved"),
    ]


async def test_resolving_without_a_reply_sends_nothing(desk: TicketDesk, tenant: str) -> None:
    ticket = await desk.open(escalation(tenant))
    await desk.resolve(tenant, ticket.ticket_id, staff="bob", resolution="Duplicate.", reply_to_player=False)
    assert await desk.pending_replies(tenant, "p1") == []


async def test_a_resolved_ticket_is_final(desk: TicketDesk, tenant: str) -> None:
    ticket = await desk.open(escalation(tenant))
    await desk.resolve(tenant, ticket.ticket_id, staff="bob", resolution="Done.")
    with pytest.raises(InvalidInputError) as replied:
        await desk.reply(tenant, ticket.ticket_id, staff="alice", text="One more thing")
    assert replied.value.code == "ticket_resolved"
    with pytest.raises(InvalidInputError) as again:
        await desk.resolve(tenant, ticket.ticket_id, staff="alice", resolution="Again")
    assert again.value.code == "ticket_resolved"
    with pytest.raises(InvalidInputError) as reopened:
        await desk.set_status(tenant, ticket.ticket_id, staff="alice", status="open")
    assert reopened.value.code == "invalid_transition"
    assert await desk.player_wrote(tenant, PERSONA, "p1", "still there?") is None
    # the player's next escalation opens a new ticket
    assert (await desk.open(escalation(tenant))).ticket_id != ticket.ticket_id


async def test_status_changes_follow_the_transitions_table(desk: TicketDesk, tenant: str) -> None:
    assert TRANSITIONS["resolved"] == frozenset()
    ticket = await desk.open(escalation(tenant))
    waiting = await desk.set_status(tenant, ticket.ticket_id, staff="alice", status="waiting_on_player")
    assert waiting.status == "waiting_on_player"
    assert (await desk.set_status(tenant, ticket.ticket_id, staff="alice", status="open")).status == "open"
    unchanged = await desk.set_status(tenant, ticket.ticket_id, staff="alice", status="open")
    assert unchanged.version == 3, "setting the current status changes nothing"
    with pytest.raises(InvalidInputError) as to_resolved:
        await desk.set_status(tenant, ticket.ticket_id, staff="alice", status="resolved")
    assert to_resolved.value.code == "invalid_transition"
    with pytest.raises(InvalidInputError):
        await desk.set_status(tenant, ticket.ticket_id, staff="alice", status="closed")  # type: ignore[arg-type]


async def test_the_audit_trail_says_who_did_what_without_the_text(desk: TicketDesk, tenant: str) -> None:
    ticket = await desk.open(escalation(tenant))
    await desk.get(tenant, ticket.ticket_id, viewer="alice")
    await desk.reply(tenant, ticket.ticket_id, staff="alice", text=f"Mail {EMAIL}")
    await desk.player_wrote(tenant, PERSONA, "p1", "ok")
    await desk.set_status(tenant, ticket.ticket_id, staff="bob", status="waiting_on_player")
    await desk.resolve(tenant, ticket.ticket_id, staff="bob", resolution="Done", reply_to_player=False)
    events = await desk.events(tenant, ticket.ticket_id)
    assert actions(events) == [
        ("engine", "created"),
        ("alice", "viewed"),
        ("alice", "replied"),
        ("player", "player_wrote"),
        ("bob", "status_changed"),
        ("bob", "resolved"),
    ]
    assert [e.seq for e in events] == [1, 2, 3, 4, 5, 6]
    assert events[4].detail == {"from": "open", "to": "waiting_on_player"}
    assert all(EMAIL not in str(e.detail) for e in events)
    assert (await desk.get(tenant, ticket.ticket_id)).version == 5, "a view does not move the version"


async def test_a_second_escalation_joins_the_open_ticket_and_raises_its_priority(
    desk: TicketDesk, tenant: str
) -> None:
    first = await desk.open(escalation(tenant))
    line = {"role": "player", "text": "Someone is in my account!", "at": 2.0}
    second = await desk.open(
        escalation(tenant, priority="urgent", transcript=[*first.transcript, line], reason="human_requested")
    )
    assert second.ticket_id == first.ticket_id and second.priority == "urgent"
    assert second.transcript == [*first.transcript, line], "lines it already had are not repeated"
    lower = await desk.open(escalation(tenant, priority="low"))
    assert lower.priority == "urgent"
    assert await desk.count(tenant) == 1


async def test_summary_suggested_reply_and_question_are_redacted(desk: TicketDesk, tenant: str) -> None:
    ticket = await desk.open(
        escalation(
            tenant,
            summary=f"Player {EMAIL} was charged twice",
            suggested_reply=f"Write to {EMAIL}",
            question_redacted=f"my mail is {EMAIL}",
            transcript=[{"role": "player", "text": f"my mail is {EMAIL}", "at": 1.0}],
        )
    )
    stored = await desk.get(tenant, ticket.ticket_id)
    assert EMAIL not in stored.summary + stored.suggested_reply + stored.question_redacted
    assert stored.transcript[0]["text"] == f"my mail is {EMAIL}", "staff see the player's own words"


# -- tenants -----------------------------------------------------------------------------------
async def test_another_tenant_cannot_see_or_touch_a_ticket(desk: TicketDesk, tenant: str) -> None:
    ticket = await desk.open(escalation(tenant))
    other = f"{tenant}-b"
    assert await desk.list(other) == [] and await desk.count(other) == 0
    calls = [
        desk.get(other, ticket.ticket_id, viewer="mallory"),
        desk.events(other, ticket.ticket_id),
        desk.reply(other, ticket.ticket_id, staff="mallory", text="hi"),
        desk.set_status(other, ticket.ticket_id, staff="mallory", status="waiting_on_player"),
        desk.resolve(other, ticket.ticket_id, staff="mallory", resolution="mine now"),
    ]
    for call in calls:
        with pytest.raises(NotFoundError) as err:
            await call
        assert other not in str(err.value) and tenant not in str(err.value)
    assert await desk.pending_replies(other, "p1") == []
    assert actions(await desk.events(tenant, ticket.ticket_id)) == [("engine", "created")]


async def test_an_unknown_id_is_not_found(desk: TicketDesk, tenant: str) -> None:
    with pytest.raises(NotFoundError, match="T-NOPE"):
        await desk.get(tenant, "T-NOPE")


@pytest.mark.parametrize("text", ["", "   ", "x" * 4001])
async def test_a_reply_must_have_text_and_fit(desk: TicketDesk, tenant: str, text: str) -> None:
    ticket = await desk.open(escalation(tenant))
    with pytest.raises(InvalidInputError):
        await desk.reply(tenant, ticket.ticket_id, staff="alice", text=text)


# -- on_resolved and logs ----------------------------------------------------------------------
async def test_on_resolved_gets_the_resolved_ticket_once(store: SqlStateStore, tenant: str) -> None:
    seen: list[Ticket] = []

    async def hook(ticket: Ticket) -> None:
        seen.append(ticket)

    desk = TicketDesk(store, redactor=PiiRedactor(), on_resolved=hook)
    ticket = await desk.open(escalation(tenant))
    await desk.resolve(tenant, ticket.ticket_id, staff="bob", resolution=f"Mailed {EMAIL}")
    assert len(seen) == 1 and seen[0].status == "resolved" and EMAIL not in seen[0].resolution


async def test_a_failing_on_resolved_hook_is_logged_and_the_ticket_stays_resolved(
    store: SqlStateStore, tenant: str
) -> None:
    async def hook(ticket: Ticket) -> None:
        raise RuntimeError(f"index down while adding {EMAIL}")

    desk = TicketDesk(store, redactor=PiiRedactor(), on_resolved=hook)
    ticket = await desk.open(escalation(tenant))
    with capture_logs() as logs:
        resolved = await desk.resolve(tenant, ticket.ticket_id, staff="bob", resolution="Done")
    assert resolved.status == "resolved"
    assert (await desk.get(tenant, ticket.ticket_id)).status == "resolved"
    failed = [e for e in logs if e["event"] == "ticket.on_resolved_failed"]
    assert failed and failed[0]["error"] == "RuntimeError" and EMAIL not in str(logs)


async def test_logs_name_tickets_and_staff_but_never_the_text(desk: TicketDesk, tenant: str) -> None:
    with capture_logs() as logs:
        ticket = await desk.open(escalation(tenant, summary=f"from {EMAIL}"))
        await desk.reply(tenant, ticket.ticket_id, staff="alice", text=f"write {EMAIL}")
        await desk.resolve(tenant, ticket.ticket_id, staff="bob", resolution=f"sent to {EMAIL}")
    assert [e["event"] for e in logs] == ["ticket.created", "ticket.replied", "ticket.resolved"]
    assert all(e["tenant"] == tenant and e["ticket_id"] == ticket.ticket_id for e in logs)
    assert [e.get("staff") for e in logs] == [None, "alice", "bob"]
    assert EMAIL not in str(logs)


# -- concurrency -------------------------------------------------------------------------------
async def test_concurrent_replies_from_two_workers_lose_nothing(state_url: str, tenant: str) -> None:
    a, b = SqlStateStore(state_url), SqlStateStore(state_url)
    try:
        one, two = TicketDesk(a, redactor=PiiRedactor()), TicketDesk(b, redactor=PiiRedactor())
        ticket = await one.open(escalation(tenant))
        texts = [f"reply {i}" for i in range(12)]
        await asyncio.gather(
            *(
                (one if i % 2 else two).reply(tenant, ticket.ticket_id, staff=f"s{i}", text=t)
                for i, t in enumerate(texts)
            )
        )
        after = await one.get(tenant, ticket.ticket_id)
        assert sorted(line["text"] for line in after.transcript if line["role"] == "staff") == sorted(texts)
        assert after.version == 1 + len(texts)
        events = await one.events(tenant, ticket.ticket_id)
        assert [e.seq for e in events] == list(range(1, len(texts) + 2))
        stored = await a.list_messages(ConversationKey(tenant, PERSONA, "p1"), limit=100)
        assert [m.seq for m in stored] == list(range(1, len(texts) + 1))
        assert sorted(m.text for m in stored) == sorted(texts)
        polls = await asyncio.gather(
            *((one if i % 2 else two).pending_replies(tenant, "p1") for i in range(8))
        )
        delivered = [r.text for poll in polls for r in poll]
        assert sorted(delivered) == sorted(texts), "every reply delivered exactly once"
    finally:
        a.close()
        b.close()


async def test_two_staff_resolving_at_once_resolve_it_once(state_url: str, tenant: str) -> None:
    a, b = SqlStateStore(state_url), SqlStateStore(state_url)
    try:
        one, two = TicketDesk(a, redactor=PiiRedactor()), TicketDesk(b, redactor=PiiRedactor())
        ticket = await one.open(escalation(tenant))
        results = await asyncio.gather(
            one.resolve(tenant, ticket.ticket_id, staff="alice", resolution="A"),
            two.resolve(tenant, ticket.ticket_id, staff="bob", resolution="B"),
            return_exceptions=True,
        )
        errors = [r for r in results if isinstance(r, Exception)]
        assert len(errors) == 1 and isinstance(errors[0], InvalidInputError)
        assert errors[0].code == "ticket_resolved"
        assert [a for _, a in actions(await one.events(tenant, ticket.ticket_id))].count("resolved") == 1
        assert len(await one.pending_replies(tenant, "p1")) == 1
    finally:
        a.close()
        b.close()


async def test_concurrent_escalations_of_one_player_share_one_ticket(state_url: str, tenant: str) -> None:
    stores = [SqlStateStore(state_url) for _ in range(2)]
    try:
        desks = [TicketDesk(s, redactor=PiiRedactor()) for s in stores]
        news = [
            escalation(
                tenant,
                priority="urgent" if i == 3 else "normal",
                transcript=[{"role": "player", "text": f"line {i}", "at": float(i)}],
            )
            for i in range(8)
        ]
        tickets = await asyncio.gather(*(desks[i % 2].open(new) for i, new in enumerate(news)))
        assert len({t.ticket_id for t in tickets}) == 1
        assert await desks[0].count(tenant) == 1
        merged = await desks[0].get(tenant, tickets[0].ticket_id)
        assert sorted(line["text"] for line in merged.transcript) == [f"line {i}" for i in range(8)]
        assert merged.priority == "urgent"
    finally:
        for s in stores:
            s.close()


async def test_a_change_from_a_stale_read_is_refused_and_writes_nothing(
    store: SqlStateStore, desk: TicketDesk, tenant: str
) -> None:
    ticket = await desk.open(escalation(tenant))
    await desk.set_status(tenant, ticket.ticket_id, staff="alice", status="waiting_on_player")
    with pytest.raises(ConflictError):
        await store.update_ticket(
            tenant,
            ticket.ticket_id,
            now=1.0,
            actor="bob",
            action="status_changed",
            expected_version=ticket.version,
            status="open",
        )
    after = await desk.get(tenant, ticket.ticket_id)
    assert after.status == "waiting_on_player" and len(await desk.events(tenant, ticket.ticket_id)) == 2


def _npc_commit(key: ConversationKey, expected: int) -> TurnWrite:
    return TurnWrite(
        key=key,
        expected_version=expected,
        started_at=1.0,
        at=2.0,
        affect={},
        summary="",
        summarised_upto=0,
        turns_added=1,
        messages=[("player", "hello?", {}), ("npc", "Hi.", {})],
    )


async def test_an_npc_turn_that_read_before_a_staff_reply_must_retry(
    desk: TicketDesk, store: SqlStateStore, tenant: str
) -> None:
    key = ConversationKey(tenant, PERSONA, "p1")
    await store.commit_turn(_npc_commit(key, 0))
    before = await store.load_conversation(key)
    ticket = await desk.open(escalation(tenant))
    await desk.reply(tenant, ticket.ticket_id, staff="alice", text="Staff here.")
    with pytest.raises(ConflictError):
        await store.commit_turn(_npc_commit(key, before.version))
    fresh = await store.load_conversation(key)
    await store.commit_turn(_npc_commit(key, fresh.version))
    roles = [(m.seq, m.role) for m in await store.list_messages(key)]
    assert roles == [(1, "player"), (2, "npc"), (3, "staff"), (4, "player"), (5, "npc")]


async def test_a_reply_to_a_player_with_no_conversation_starts_one(
    desk: TicketDesk, store: SqlStateStore, tenant: str
) -> None:
    ticket = await desk.open(escalation(tenant))
    await desk.reply(tenant, ticket.ticket_id, staff="alice", text="Hello from staff.")
    key = ConversationKey(tenant, PERSONA, "p1")
    conv = await store.load_conversation(key)
    assert (conv.version, conv.affect, conv.turns, conv.last_message_seq) == (1, None, 0, 1)
    assert [m.role for m in conv.history] == ["staff"]
    await store.commit_turn(_npc_commit(key, conv.version))
    assert [m.seq for m in await store.list_messages(key)] == [1, 2, 3]


async def test_a_staff_reply_with_control_characters_is_kept_without_them(
    desk: TicketDesk, tenant: str
) -> None:
    ticket = await desk.open(escalation(tenant, "p-nul"))
    sent = await desk.reply(tenant, ticket.ticket_id, staff="Mira", text="Fixed\x00 it.\x07\nSorry!")
    assert sent.text == "Fixed it.\nSorry!"
    (delivered,) = await desk.pending_replies(tenant, "p-nul")
    assert delivered.text == "Fixed it.\nSorry!"
