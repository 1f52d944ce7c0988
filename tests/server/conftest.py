"""Fixtures for the server: an engine over the fast fakes, two games, staff keys, and tickets."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from knowledge.embedders.hashing import HashEmbedder
from knowledge.stores.memory import MemoryVectorStore
from npc_engine.auth import create_key
from npc_engine.engine import Engine
from npc_engine.llm.scripted import ScriptedChatModel
from npc_engine.settings import Settings
from npc_engine.state.store import SqlStateStore
from npc_engine.support.desk import TicketDesk
from npc_engine.support.tickets import NewTicket, Ticket

NOW = 1_700_000_000.0
GAME_A, GAME_B = "ironhold", "starfall"


class Clock:
    """Time the test moves by hand."""

    def __init__(self, start: float = NOW) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now


def new_ticket(
    player: str,
    *,
    tenant: str = GAME_A,
    age_s: float = 600.0,
    category: str = "billing",
    priority: str = "normal",
    reason: str = "sensitive_topic",
    message: str = "I was charged twice for the Dragon Pack.",
) -> NewTicket:
    created = NOW - age_s
    return NewTicket(
        tenant=tenant,
        persona_id="support",
        player_id=player,
        locale="en",
        category=category,
        priority=priority,
        reason=reason,
        reason_detail="payments",
        question_redacted=message,
        summary=f"{player} reports: {message}",
        suggested_reply="Sorry about that! I have asked billing to refund the second charge.",
        sources_tried=[
            {"id": "faq:refunds", "kind": "faq", "title": "Refunds", "category": "billing", "score": 0.41}
        ],
        transcript=[
            {"role": "player", "text": message, "at": created - 30},
            {"role": "agent", "text": "Let me get a person to look at this.", "at": created},
        ],
        created_at=created,
    )


@dataclass
class ConsoleWorld:
    """An engine with two games: staff of each, a game key, and tickets opened in game A."""

    engine: Engine
    desk: TicketDesk
    clock: Clock
    keys: dict[str, str] = field(default_factory=dict)  # "a-staff", "a-admin", "a-game", "b-staff"
    tickets: dict[str, Ticket] = field(default_factory=dict)

    def open(self, player: str, **kwargs: Any) -> Ticket:
        ticket = asyncio.run(self.desk.open(new_ticket(player, **kwargs)))
        self.tickets[player] = ticket
        return ticket


def build_world(root: Path) -> ConsoleWorld:
    clock = Clock()
    state = SqlStateStore(f"sqlite:///{root / 'state.db'}")
    engine = Engine(
        settings=Settings(_env_file=None, embedder="hash", vector_store="memory", data_dir=root),  # type: ignore[call-arg]
        state=state,
        embedder=HashEmbedder(),
        vectors=MemoryVectorStore(),
        chat_model=ScriptedChatModel(['{"text": "Aye.", "emotion": "neutral", "actions": []}']),
        clock=clock,
    )
    world = ConsoleWorld(engine, engine.desk, clock)

    async def setup() -> None:
        for tenant in (GAME_A, GAME_B):
            await state.ensure_tenant(tenant)
        for label, tenant, role, name in [
            ("a-staff", GAME_A, "staff", "Alice Agent"),
            ("a-admin", GAME_A, "admin", "Ada Admin"),
            ("a-game", GAME_A, "game", "game-server"),
            ("b-staff", GAME_B, "staff", "Bob of Starfall"),
        ]:
            _, secret = await create_key(state, tenant=tenant, role=role, name=name)
            world.keys[label] = secret

    asyncio.run(setup())
    return world


@pytest.fixture
def console_world(tmp_path: Path) -> Iterator[ConsoleWorld]:
    world = build_world(tmp_path)
    yield world
    world.engine.close()


NONCE = re.compile(r'name="csrf" value="([^"]+)"')


def form_token(html: str) -> str:
    """The CSRF token (or sign-in nonce) of the first form on a page."""
    found = NONCE.search(html)
    assert found, "no CSRF field on the page"
    return found.group(1)


def sign_in(client: TestClient, secret: str) -> Any:
    """Sign in through the form, as a browser does; returns the (unfollowed) answer."""
    page = client.get("/console/login")
    return client.post(
        "/console/login", data={"key": secret, "csrf": form_token(page.text)}, follow_redirects=False
    )
