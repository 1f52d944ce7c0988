"""Resolved tickets join the knowledge base, also when the vector store was down at the time.

The engine here is its own: a demo world in a fresh tenant, state in this test's SQLite file,
vectors in memory behind :class:`Outage` (every call refused while ``down``). The same
behaviour against a real Chroma server that stops and restarts is in
``tests/knowledge/test_chroma_server.py``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from structlog.testing import capture_logs

from knowledge.embedders.hashing import HashEmbedder
from knowledge.stores.memory import MemoryVectorStore
from npc_engine.engine import Engine
from npc_engine.errors import VectorStoreError
from npc_engine.llm.scripted import ScriptedChatModel
from npc_engine.settings import Settings
from npc_engine.state.store import SqlStateStore
from npc_engine.support.resolutions import Resolutions
from npc_engine.support.tickets import NewTicket, Ticket
from tests.conftest import DEMO_WORLD

TENANT = "default"
QUESTION = "My pet glimmerfox vanished from the stable after the patch"
ANSWER = "Glimmerfox pets come back after a relog; we restored yours from the stable backup."


class Outage:
    """A vector store that refuses every call while ``down`` and counts the calls it refused."""

    def __init__(self, inner: MemoryVectorStore) -> None:
        self.inner = inner
        self.down = False
        self.refused = 0

    def __getattr__(self, name: str) -> Any:
        method = getattr(self.inner, name)
        if name == "close":
            return method

        async def call(*args: Any, **kwargs: Any) -> Any:
            if self.down:
                self.refused += 1
                raise VectorStoreError("Chroma upsert failed: cannot connect (connection refused)")
            return await method(*args, **kwargs)

        return call


class Data:
    """The demo world ingested once into vectors (behind an outage switch) and a SQLite file."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.vectors = Outage(MemoryVectorStore())
        self.embedder = HashEmbedder()

    def engine(self) -> Engine:
        """A fresh worker over the same data: nothing learned or cached in its process."""
        return Engine(
            settings=Settings(data_dir=self.root, embedder="hash", vector_store="memory", llm="scripted"),
            state=SqlStateStore(f"sqlite:///{self.root / 'state.db'}"),
            embedder=self.embedder,
            vectors=self.vectors,  # type: ignore[arg-type]
            chat_model=ScriptedChatModel(['{"text": "Aye.", "emotion": "neutral", "actions": []}']),
        )


@pytest.fixture
def data(tmp_path: Path) -> Iterator[Data]:
    data = Data(tmp_path)
    engine = data.engine()
    asyncio.run(engine.ingest(DEMO_WORLD))
    engine.close()
    yield data


async def open_ticket(engine: Engine, player: str = "p-1") -> Ticket:
    """An escalated question about pets: a category the knowledge base knows nothing of."""
    return await engine.desk.open(
        NewTicket(
            tenant=TENANT,
            persona_id="aria",
            player_id=player,
            locale="en",
            category="pets",
            priority="normal",
            reason="no_knowledge",
            reason_detail="no FAQ entry or ticket matched",
            question_redacted=QUESTION,
            summary="The player lost a pet.",
            suggested_reply="",
            sources_tried=[],
            transcript=[{"role": "player", "text": QUESTION, "at": 1.0}],
            created_at=engine.clock(),
        )
    )


async def learned(engine: Engine, ticket: Ticket) -> bool:
    chunks = await engine.state.load_chunks(TENANT, kinds=["ticket"])
    return f"ticket:{ticket.ticket_id}" in {c.source_id for c in chunks}


async def test_a_ticket_resolved_while_the_vector_store_is_down_is_answered_from_once_it_is_back(
    data: Data,
) -> None:
    engine = data.engine()
    ticket = await open_ticket(engine)
    data.vectors.down = True
    with capture_logs() as logs:
        resolved = await engine.desk.resolve(TENANT, ticket.ticket_id, staff="sam", resolution=ANSWER)
    assert resolved.status == "resolved" and not await learned(engine, ticket)
    assert [e["event"] for e in logs if e["log_level"] in ("warning", "error")] == [
        "support.resolution_deferred",
        "ticket.on_resolved_failed",
    ]
    data.vectors.down = False
    with capture_logs() as logs:
        reply = await engine.support_turn("aria", "p-2", QUESTION)
    assert reply.answered and [c.id for c in reply.citations] == [f"ticket:{ticket.ticket_id}"]
    assert reply.text.startswith(ANSWER)
    assert {"event": "support.resolutions_caught_up", "tenant": TENANT, "learned": 1, "more": False} in [
        {k: e.get(k) for k in ("event", "tenant", "learned", "more")} for e in logs
    ]
    engine.close()


async def test_a_fresh_worker_learns_a_resolution_the_outage_kept_out_before_its_first_answer(
    data: Data,
) -> None:
    first = data.engine()
    ticket = await open_ticket(first)
    data.vectors.down = True
    await first.desk.resolve(TENANT, ticket.ticket_id, staff="sam", resolution=ANSWER)
    first.close()  # the worker that saw the failure is gone
    data.vectors.down = False
    fresh = data.engine()
    reply = await fresh.support_turn("aria", "p-3", QUESTION)
    assert reply.answered and reply.citations[0].id == f"ticket:{ticket.ticket_id}"
    fresh.close()


async def test_the_next_resolution_also_learns_the_one_the_outage_kept_out(data: Data) -> None:
    engine = data.engine()
    missed, later = await open_ticket(engine, "p-4"), await open_ticket(engine, "p-5")
    data.vectors.down = True
    await engine.desk.resolve(TENANT, missed.ticket_id, staff="sam", resolution=ANSWER)
    data.vectors.down = False
    await engine.desk.resolve(TENANT, later.ticket_id, staff="sam", resolution=ANSWER)
    assert await learned(engine, missed) and await learned(engine, later)
    engine.close()


async def test_while_the_outage_lasts_a_catch_up_is_tried_once_per_retry_interval(data: Data) -> None:
    engine = data.engine()
    now = [0.0]
    resolutions = Resolutions(engine, retry_s=30.0, monotonic=lambda: now[0])
    ticket = await open_ticket(engine)
    data.vectors.down = True
    with pytest.raises(VectorStoreError):
        await resolutions.learn(await resolved_without_hook(engine, ticket))
    with capture_logs() as logs:
        assert await resolutions.catch_up(TENANT) == 0  # tried at once after the failure: still down
    assert [e["event"] for e in logs] == ["support.resolutions_behind"] and logs[0]["retry_s"] == 30.0
    refused = data.vectors.refused
    now[0] = 29.0
    assert await resolutions.catch_up(TENANT) == 0
    assert data.vectors.refused == refused  # not tried again so soon
    data.vectors.down = False
    now[0] = 30.0
    assert await resolutions.catch_up(TENANT) == 1
    assert await learned(engine, ticket)
    engine.close()


async def test_with_nothing_missing_a_catch_up_reads_nothing_after_the_first(data: Data) -> None:
    engine = data.engine()
    counted = CountingState(engine.state)
    engine.state = counted  # type: ignore[assignment]
    resolutions = Resolutions(engine)
    assert await resolutions.catch_up(TENANT) == 0
    assert counted.calls == {"sources": 1, "list_tickets": 1}
    for _ in range(5):
        assert await resolutions.catch_up(TENANT) == 0
    assert counted.calls == {"sources": 1, "list_tickets": 1}
    engine.close()


async def test_a_catch_up_learns_at_most_one_batch_and_leaves_the_rest_to_the_next(data: Data) -> None:
    engine = data.engine()
    tickets = [await open_ticket(engine, f"p-batch-{i}") for i in range(3)]
    data.vectors.down = True
    for ticket in tickets:
        await engine.desk.resolve(TENANT, ticket.ticket_id, staff="sam", resolution=ANSWER)
    data.vectors.down = False
    resolutions = Resolutions(engine, batch=2)
    assert await resolutions.catch_up(TENANT) == 2
    assert await resolutions.catch_up(TENANT) == 1
    assert await resolutions.catch_up(TENANT) == 0
    assert all([await learned(engine, t) for t in tickets])
    engine.close()


async def resolved_without_hook(engine: Engine, ticket: Ticket) -> Ticket:
    """Resolve through a desk that learns nothing (the test drives :class:`Resolutions` itself)."""
    from npc_engine.support.desk import TicketDesk

    desk = TicketDesk(engine.state, redactor=engine.redactor, clock=engine.clock)
    return await desk.resolve(TENANT, ticket.ticket_id, staff="sam", resolution=ANSWER)


class CountingState:
    """The state store, counting the reads a catch-up makes."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.calls: dict[str, int] = {}

    def __getattr__(self, name: str) -> Any:
        if name in ("sources", "list_tickets"):
            self.calls[name] = self.calls.get(name, 0) + 1
        return getattr(self.inner, name)
