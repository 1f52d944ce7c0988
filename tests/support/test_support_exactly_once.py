"""Support turns and staff-reply claims are exactly-once: all their writes commit together or none does.

A worker that dies at the very end of the transaction (the statement storing the request's
answer fails) must leave nothing behind: no ticket or ticket line, the staff replies still
pending, no messages. The client's retry with the same ``Idempotency-Key`` then does the work
once, and a later retry is answered with exactly what that one returned. On SQLite and
PostgreSQL.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import Awaitable, Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import numpy as np
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import event

from npc_engine.devservices import postgres_schema
from npc_engine.engine import Engine
from npc_engine.llm.scripted import ScriptedChatModel
from npc_engine.settings import Settings
from npc_engine.state.records import ConversationKey
from npc_engine.state.store import SqlStateStore
from npc_engine.support.tickets import Ticket
from tests.api_world import GAME_A, ApiWorld
from tests.turn.conftest import Backends, Clock, postgres_turn_state  # noqa: F401  (used by `state`)

PERSONA = "aria"
REFUND = "I want a refund for my purchase"  # a sensitive topic: always escalated
FAQ = "Can I change my character's name?"  # answered from the FAQ


class WorkerDied(Exception):
    """What the fault below raises in place of the statement that stores the request's answer."""


@contextmanager
def dying_at_the_answer(store: SqlStateStore) -> Iterator[list[str]]:
    """Make the statement that stores an idempotent answer (the last of its transaction) fail.

    Yields the statements the store ran meanwhile, in order, so a test can check what came first.
    """
    seen: list[str] = []

    def before(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        seen.append(statement)
        if statement.startswith("UPDATE idempotency_keys SET status_code"):
            raise WorkerDied("killed before the commit")

    event.listen(store.engine, "before_cursor_execute", before)
    try:
        yield seen
    finally:
        event.remove(store.engine, "before_cursor_execute", before)


@contextmanager
def statements(store: SqlStateStore) -> Iterator[list[str]]:
    seen: list[str] = []

    def before(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        seen.append(statement)

    event.listen(store.engine, "before_cursor_execute", before)
    try:
        yield seen
    finally:
        event.remove(store.engine, "before_cursor_execute", before)


def lines_saying(ticket: Ticket, text: str) -> int:
    return sum(1 for line in ticket.transcript if line["text"] == text)


# -- over HTTP -------------------------------------------------------------------------------


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def world(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ApiWorld]:
    """The demo world over HTTP, its state on each backend, shared by this module's tests (each
    plays with a player of its own)."""
    root = tmp_path_factory.mktemp("exactly-once")
    with contextlib.ExitStack() as stack:
        if request.param == "sqlite":
            url = f"sqlite:///{root / 'state.db'}"
        else:
            url = stack.enter_context(
                postgres_schema(request.getfixturevalue("postgres_server"), prefix="npc_test")
            )
        built = ApiWorld.build(root, state_url=url)
        stack.callback(built.close)
        yield built


class Game:
    """The game and the staff of :data:`GAME_A`, over HTTP, and a peek at the state behind them."""

    def __init__(self, world: ApiWorld, client: TestClient, player: str) -> None:
        self.world, self.client, self.player = world, client, player
        self.key = ConversationKey(GAME_A, PERSONA, player)

    @property
    def store(self) -> SqlStateStore:
        state = self.world.engine.state
        assert isinstance(state, SqlStateStore)
        return state

    def turn(self, text: str, key: str | None = None) -> Any:
        headers = {**self.world.auth("a-game"), **({"Idempotency-Key": key} if key else {})}
        body = {"player": {"id": self.player}, "text": text}
        return self.client.post(f"/v1/support/{PERSONA}/turns", json=body, headers=headers)

    def claim(self, key: str) -> Any:
        headers = {**self.world.auth("a-game"), "Idempotency-Key": key}
        return self.client.post("/v1/support/replies/claim", json={"player_id": self.player}, headers=headers)

    def staff(self, path: str, body: dict[str, Any]) -> None:
        answer = self.client.post(f"/v1/tickets/{path}", json=body, headers=self.world.auth("a-staff"))
        assert answer.status_code in (200, 201), answer.text

    def ticket(self, ticket_id: str) -> Ticket:
        return asyncio.run(self.world.engine.desk.get(GAME_A, ticket_id))

    def open_ticket(self) -> Ticket | None:
        return asyncio.run(self.store.open_ticket_for(GAME_A, PERSONA, self.player))

    def pending(self) -> list[str]:
        desk = self.world.engine.desk
        return [r.text for r in asyncio.run(desk.pending_replies(GAME_A, self.player, mark_delivered=False))]

    def messages(self) -> list[str]:
        return [m.role for m in asyncio.run(self.store.list_messages(self.key))]


@contextmanager
def game(world: ApiWorld) -> Iterator[Game]:
    with TestClient(world.app(), raise_server_exceptions=False) as client:
        yield Game(world, client, f"p-{uuid.uuid4().hex[:8]}")


def test_a_support_turn_that_dies_at_its_last_write_leaves_nothing_and_its_retry_runs_once(
    world: ApiWorld,
) -> None:
    with game(world) as g:
        first = g.turn("I want to talk to a human please").json()
        g.staff(f"{first['ticket_id']}/replies", {"text": "Looking into it."})
        g.staff(f"{first['ticket_id']}/resolve", {"resolution": "Your account is fixed."})
        before = g.messages()
        key = str(uuid.uuid4())

        with dying_at_the_answer(g.store) as seen:
            died = g.turn(REFUND, key)
        assert died.status_code == 500
        assert any(s.startswith("INSERT INTO tickets") for s in seen)  # it had got that far ...
        assert any(s.startswith("INSERT INTO messages") for s in seen)  # ... and further
        assert g.open_ticket() is None
        assert g.pending() == ["Looking into it.", "Your account is fixed."]
        assert g.messages() == before

        retry = g.turn(REFUND, key)
        again = g.turn(REFUND, key)

    assert retry.status_code == 200 and "idempotent-replayed" not in retry.headers
    reply = retry.json()
    assert reply["escalated"] and reply["ticket_id"] not in (None, first["ticket_id"])
    assert [s["text"] for s in reply["staff_replies"]] == ["Looking into it.", "Your account is fixed."]
    opened = g.open_ticket()
    assert opened is not None and opened.ticket_id == reply["ticket_id"]
    assert lines_saying(opened, REFUND) == 1
    assert g.pending() == []
    assert g.messages() == [*before, "player", "agent"]
    assert again.headers["idempotent-replayed"] == "true" and again.json() == reply


def test_an_answered_turn_that_dies_adds_nothing_to_the_open_ticket(world: ApiWorld) -> None:
    with game(world) as g:
        ticket_id = g.turn("I want to talk to a human please").json()["ticket_id"]
        g.staff(f"{ticket_id}/replies", {"text": "Which name would you like?"})
        waiting = g.ticket(ticket_id)
        key = str(uuid.uuid4())

        with dying_at_the_answer(g.store):
            assert g.turn(FAQ, key).status_code == 500
        assert g.ticket(ticket_id) == waiting  # no line, still waiting on the player
        assert g.pending() == ["Which name would you like?"]

        retry = g.turn(FAQ, key)
        again = g.turn(FAQ, key)

    reply = retry.json()
    assert reply["answered"] and [s["text"] for s in reply["staff_replies"]] == ["Which name would you like?"]
    after = g.ticket(ticket_id)
    assert after.status == "open" and lines_saying(after, FAQ) == 1
    assert again.headers["idempotent-replayed"] == "true" and again.json() == reply


def test_a_claim_that_dies_at_its_answer_hands_out_nothing_and_its_retry_gets_the_replies(
    world: ApiWorld,
) -> None:
    with game(world) as g:
        ticket_id = g.turn("I want to talk to a human please").json()["ticket_id"]
        g.staff(f"{ticket_id}/replies", {"text": "First."})
        g.staff(f"{ticket_id}/replies", {"text": "Second."})
        key = str(uuid.uuid4())

        with dying_at_the_answer(g.store) as seen:
            assert g.claim(key).status_code == 500
        assert any(s.startswith("UPDATE staff_replies SET delivered_at") for s in seen)
        assert g.pending() == ["First.", "Second."]

        retry = g.claim(key)
        again = g.claim(key)
        afterwards = g.claim(str(uuid.uuid4()))

    assert retry.status_code == 200 and [r["text"] for r in retry.json()["replies"]] == ["First.", "Second."]
    assert again.headers["idempotent-replayed"] == "true" and again.json() == retry.json()
    assert g.pending() == [] and afterwards.json() == {"replies": []}


# -- concurrent writes -----------------------------------------------------------------------


class InterruptingEmbedder:
    """The hash embedder, which runs ``interrupt`` once, when asked for the query ``question``:
    a write that lands while the turn runs (after it read the conversation, before it commits)."""

    def __init__(self, inner: Any, question: str, interrupt: Callable[[], Awaitable[None]]) -> None:
        self.inner, self.id, self.dim = inner, inner.id, inner.dim
        self.question = question
        self.interrupt: Callable[[], Awaitable[None]] | None = interrupt

    async def embed(self, texts: Sequence[str], *, kind: Any) -> np.ndarray:
        if kind == "query" and self.question in texts and self.interrupt is not None:
            interrupt, self.interrupt = self.interrupt, None
            await interrupt()
        result: np.ndarray = await self.inner.embed(texts, kind=kind)
        return result


@pytest.fixture(params=["sqlite", "postgresql"])
def state(request: pytest.FixtureRequest, turn_backends: Backends) -> SqlStateStore:
    """The demo world's state store on each backend (as ``turn_state`` in tests/turn/conftest.py)."""
    if request.param == "sqlite":
        return turn_backends.state
    store: SqlStateStore = request.getfixturevalue("postgres_turn_state")
    return store


def support_engine(backends: Backends, state: SqlStateStore, embedder: Any = None) -> Engine:
    return Engine(
        settings=Settings(_env_file=None, embedder="hash", vector_store="memory", data_dir=backends.root),  # type: ignore[call-arg]
        state=state,
        embedder=embedder or backends.embedder,
        vectors=backends.vectors,
        chat_model=ScriptedChatModel(['{"text": "Aye.", "emotion": "neutral", "actions": []}']),
        clock=Clock(),
    )


async def test_a_staff_reply_during_the_turn_makes_it_run_again_without_duplicating_ticket_lines(
    turn_backends: Backends, state: SqlStateStore, player: str
) -> None:
    first = await support_engine(turn_backends, state).support_turn(
        PERSONA, player, "I want to talk to a human please"
    )
    ticket_id = first.ticket_id or ""
    charged = "I was charged twice for the gem pack"  # escalated too: joins the open ticket

    async def staff_replies() -> None:
        await state.add_staff_reply("default", ticket_id, staff="sam", text="Checking it.", now=Clock()())

    interrupting = InterruptingEmbedder(turn_backends.embedder, charged, staff_replies)
    engine = support_engine(turn_backends, state, interrupting)
    with statements(state) as seen:
        reply = await engine.support_turn(PERSONA, player, charged)

    assert sum(s.startswith("UPDATE conversations SET") for s in seen) == 2  # conflict, then the retry
    assert reply.escalated and reply.ticket_id == ticket_id
    assert [s.text for s in reply.staff_replies] == ["Checking it."]
    ticket = await engine.desk.get("default", ticket_id)
    assert (
        lines_saying(ticket, charged) == 1 and lines_saying(ticket, "I want to talk to a human please") == 1
    )
    assert ticket.status == "open" and ticket.priority == "high"
    events = [e.action for e in await engine.desk.events("default", ticket_id)]
    assert events == ["created", "replied", "player_wrote"]
    history = await state.list_messages(ConversationKey("default", PERSONA, player))
    assert [m.role for m in history] == ["player", "agent", "staff", "player", "agent"]
    assert await engine.desk.pending_replies("default", player, mark_delivered=False) == []


async def test_two_escalations_at_once_share_one_ticket_with_each_line_once(
    turn_backends: Backends, state: SqlStateStore, player: str
) -> None:
    engine = support_engine(turn_backends, state)
    texts = ["I want to talk to a human please", "I was charged twice for the gem pack"]
    replies = await asyncio.gather(*(engine.support_turn(PERSONA, player, text) for text in texts))

    assert all(r.escalated for r in replies)
    assert replies[0].ticket_id == replies[1].ticket_id
    ticket = await engine.desk.get("default", replies[0].ticket_id or "")
    assert [lines_saying(ticket, text) for text in texts] == [1, 1]
    history = await state.list_messages(ConversationKey("default", PERSONA, player))
    assert sorted(m.text for m in history if m.role == "player") == sorted(texts)
    assert len(history) == 4
