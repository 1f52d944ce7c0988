"""A Chroma server that stops, hangs and comes back: clear errors fast, turns still answered,
readiness says 503 while it is down, and the same worker recovers without a restart.

These tests stop their own server (not the session's shared one), started once for the module.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import time
import uuid
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from structlog.testing import capture_logs

from knowledge.embedders.hashing import HashEmbedder
from knowledge.stores.chroma import ChromaVectorStore
from knowledge.types import VectorRecord
from npc_engine.auth import create_key
from npc_engine.backends import make_vector_store
from npc_engine.devservices import ChromaServer, chroma_server
from npc_engine.engine import Engine
from npc_engine.errors import VectorStoreError
from npc_engine.llm.scripted import ScriptedChatModel
from npc_engine.server.app import create_app
from npc_engine.settings import Settings
from npc_engine.state.store import SqlStateStore
from npc_engine.support.tickets import NewTicket, Ticket
from npc_engine.support.types import SupportReply
from tests.conftest import DEMO_WORLD

FAST_S = 10.0  # a failure must be reported well within this
NPC_REPLY = '{"text": "Aye.", "emotion": "neutral", "actions": []}'


@pytest.fixture(scope="module")
def own_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ChromaServer]:
    with chroma_server(tmp_path_factory.mktemp("own-chroma")) as server:
        yield server


@pytest.fixture
def server(own_server: ChromaServer) -> Iterator[ChromaServer]:
    """The module's server, running at the start of the test whatever the test before did to it."""
    own_server.start()
    yield own_server
    if own_server.process is not None:
        os.kill(own_server.process.pid, signal.SIGCONT)  # in case the test froze it


@pytest.fixture
def store(server: ChromaServer) -> Iterator[ChromaVectorStore]:
    s = ChromaVectorStore(url=server.url, timeout_s=2.0)
    yield s
    s.close()


def collection() -> str:
    return f"c{uuid.uuid4().hex[:12]}"


RECORDS = [
    VectorRecord("a", [1.0, 0.0, 0.0], "alpha", {"n": 1}),
    VectorRecord("b", [0.0, 1.0, 0.0], "beta", {"n": 2}),
]


def freeze(pid: int, timeout_s: float = 5.0) -> None:
    """SIGSTOP ``pid`` and wait until every one of its threads is stopped (the signal is asynchronous:
    a thread mid-request could otherwise still answer it)."""
    os.kill(pid, signal.SIGSTOP)
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        states = []
        for stat in Path(f"/proc/{pid}/task").glob("*/stat"):
            with contextlib.suppress(OSError):
                states.append(stat.read_text().rsplit(")", 1)[1].split()[0])
        if states and all(state in "tT" for state in states):
            return
        time.sleep(0.01)
    raise AssertionError(f"process {pid} did not stop within {timeout_s} s")


async def failure_of(call: Awaitable[object]) -> tuple[VectorStoreError, float]:
    started = time.monotonic()
    with pytest.raises(VectorStoreError) as info:
        await call
    return info.value, time.monotonic() - started


CALLS: dict[str, Callable[[ChromaVectorStore, str], Awaitable[object]]] = {
    "query": lambda s, name: s.query(name, [1.0, 0.0, 0.0], k=1),
    "upsert": lambda s, name: s.upsert(name, RECORDS),
    "count": lambda s, name: s.count(name),
    "fetch_vectors": lambda s, name: s.fetch_vectors(name, limit=10),
    "delete": lambda s, name: s.delete(name, ["a"]),
    "heartbeat": lambda s, name: s.heartbeat(),
}


async def test_a_stopped_server_is_a_clear_vector_store_error_at_once_on_every_call(
    server: ChromaServer, store: ChromaVectorStore
) -> None:
    name = collection()
    await store.upsert(name, RECORDS)  # connected, collection handle cached
    server.stop()
    for call in CALLS.values():
        for _ in range(2):  # the first call finds the connection gone, the second cannot reconnect
            error, seconds = await failure_of(call(store, name))
            assert seconds < FAST_S
            assert server.url in str(error) and "cannot connect" in str(error) and "chroma run" in str(error)


async def test_the_same_store_works_again_after_the_server_restarts(
    server: ChromaServer, store: ChromaVectorStore
) -> None:
    name = collection()
    await store.upsert(name, RECORDS)
    server.stop()
    await failure_of(store.count(name))
    server.restart()
    assert await store.count(name) == 2  # same object, same data: no worker restart needed
    assert (await store.query(name, [0.0, 1.0, 0.0], k=1))[0].text == "beta"


async def test_a_store_that_never_saw_the_server_connects_once_it_is_up(
    server: ChromaServer, store: ChromaVectorStore
) -> None:
    server.stop()
    await failure_of(store.count(collection()))
    server.start()
    assert await store.count(collection()) == 0


async def test_a_frozen_server_is_an_error_after_timeout_s_not_a_hang(
    server: ChromaServer, store: ChromaVectorStore
) -> None:
    name, impatient = collection(), ChromaVectorStore(url=server.url, timeout_s=1.0)
    await impatient.upsert(name, RECORDS)
    assert server.process is not None
    freeze(server.process.pid)
    try:
        error, seconds = await failure_of(impatient.count(name))
        assert seconds < FAST_S and "no answer within 1 s" in str(error)
        error, seconds = await failure_of(impatient.count(name))  # reconnecting is bounded too
        assert seconds < FAST_S and "no answer within 1 s" in str(error)
        error, seconds = await failure_of(store.heartbeat())  # what /readyz asks: at most 2 s
        assert seconds < FAST_S and "no answer within 2 s" in str(error)
    finally:
        os.kill(server.process.pid, signal.SIGCONT)
    assert await impatient.count(name) == 2
    impatient.close()


async def test_a_store_built_from_settings_waits_at_most_npc_vector_timeout_s(
    server: ChromaServer, tmp_path: Path
) -> None:
    built = make_vector_store(Settings(data_dir=tmp_path, vector_store=server.spec, vector_timeout_s=1.0))
    name = collection()
    await built.upsert(name, RECORDS)
    assert server.process is not None
    freeze(server.process.pid)
    try:
        error, seconds = await failure_of(built.count(name))
        assert seconds < FAST_S and "no answer within 1 s" in str(error)
    finally:
        os.kill(server.process.pid, signal.SIGCONT)
    assert await built.count(name) == 2
    built.close()


# -- an engine whose vectors live in the server ----------------------------------------------------


def make_engine(root: Path, server: ChromaServer, tenant: str) -> Engine:
    """A fresh worker: hash embedder, vectors in ``server``, state in ``root``, scripted model."""
    return Engine(
        settings=Settings(
            data_dir=root, tenant=tenant, embedder="hash", vector_store=server.spec, llm="scripted"
        ),
        state=SqlStateStore(f"sqlite:///{root / 'state.db'}"),
        embedder=HashEmbedder(),
        vectors=ChromaVectorStore(url=server.url, timeout_s=2.0),
        chat_model=ScriptedChatModel([NPC_REPLY]),
    )


@pytest.fixture(scope="module")
def ingested(tmp_path_factory: pytest.TempPathFactory, own_server: ChromaServer) -> tuple[Path, str]:
    """The demo world ingested once into the module's server: (state folder, tenant)."""
    root, tenant = tmp_path_factory.mktemp("world"), f"t{uuid.uuid4().hex[:10]}"
    own_server.start()
    engine = make_engine(root, own_server, tenant)
    asyncio.run(engine.ingest(DEMO_WORLD))
    engine.close()
    return root, tenant


@pytest.fixture
def world(ingested: tuple[Path, str], server: ChromaServer) -> Iterator[Callable[[], Engine]]:
    """``world()``: a fresh worker (no process state) over the ingested demo world."""
    engines: list[Engine] = []

    def fresh() -> Engine:
        root, tenant = ingested
        engines.append(make_engine(root, server, tenant))
        return engines[-1]

    yield fresh
    for engine in engines:
        engine.close()


def test_a_cold_worker_answers_an_npc_turn_from_lexical_search_while_chroma_is_down(
    world: Callable[[], Engine], server: ChromaServer
) -> None:
    engine = world()  # nothing read from Chroma yet
    server.stop()
    with capture_logs() as logs:
        reply = asyncio.run(engine.npc_turn("brannoc", "p-1", "Tell me about the great forge"))
    assert reply.text == "Aye."
    assert any(e["event"] == "kb.dense_unavailable" for e in logs)


def test_a_warm_worker_answers_from_its_in_memory_partitions_while_chroma_is_down(
    world: Callable[[], Engine], server: ChromaServer
) -> None:
    engine = world()

    async def turns() -> list[str]:
        first = await engine.npc_turn("brannoc", "p-2", "Tell me about the great forge")
        server.stop()
        with capture_logs() as logs:
            second = await engine.npc_turn("brannoc", "p-2", "And the forge's history?")
        assert not any(e["event"] == "kb.dense_unavailable" for e in logs)  # no round trip needed
        return [first.text, second.text]

    assert asyncio.run(turns()) == ["Aye.", "Aye."]


def test_a_cold_worker_escalates_a_support_question_to_staff_naming_the_outage_while_chroma_is_down(
    world: Callable[[], Engine], server: ChromaServer
) -> None:
    engine = world()
    server.stop()
    with capture_logs() as logs:
        reply = asyncio.run(engine.support_turn("aria", "p-3", "Can I change my character's name?"))
    # without vector similarity the confidence model cannot trust lexical matches alone: a ticket,
    # not a guess (a warm worker answers from the partitions it holds in memory); the ticket tells
    # staff the search was degraded, not that the knowledge base lacks an answer
    assert reply.escalated and reply.reason == "no_knowledge" and reply.ticket_id in reply.text
    assert reply.reason_detail.startswith("knowledge search degraded (vector store unavailable); ")
    assert "keyword match(es), not trusted to answer alone" in reply.reason_detail
    ticket = asyncio.run(engine.desk.get(engine.settings.tenant, reply.ticket_id or ""))
    assert ticket.reason_detail == reply.reason_detail and "vector store unavailable" in ticket.summary
    events = {e["event"] for e in logs}
    assert {"kb.dense_unavailable", "support.search_degraded", "support.calibration_unavailable"} <= events


def test_readyz_is_503_naming_the_vector_store_while_chroma_is_down_and_200_after_restart(
    world: Callable[[], Engine], server: ChromaServer
) -> None:
    engine = world()
    with TestClient(create_app(engine)) as client:
        assert client.get("/readyz").status_code == 200
        server.stop()
        down = client.get("/readyz")
        assert down.status_code == 503
        body = down.json()
        assert body["status"] == "not_ready" and body["checks"]["state_store"] == "ok"
        assert "cannot connect" in body["checks"]["vector_store"]
        server.start()
        up = client.get("/readyz")
        assert (up.status_code, up.json()["checks"]["vector_store"]) == (200, "ok")


def test_the_api_answers_turns_while_chroma_is_down_and_after_it_is_back(
    world: Callable[[], Engine], server: ChromaServer
) -> None:
    engine = world()
    _, secret = asyncio.run(create_key(engine.state, tenant=engine.settings.tenant, role="game", name="g"))
    headers = {"Authorization": f"Bearer {secret}"}
    body = {"player": {"id": "p-4"}, "text": "Tell me about the great forge"}
    with TestClient(create_app(engine)) as client:
        server.stop()
        with capture_logs() as logs:
            down = client.post("/v1/npcs/brannoc/turns", json=body, headers=headers)
        assert down.status_code == 200, down.text
        assert any(e["event"] == "kb.dense_unavailable" for e in logs)  # answered from BM25 alone
        support = client.post(
            "/v1/support/aria/turns", json={**body, "text": "How do I reset my password?"}, headers=headers
        )
        assert support.status_code == 200, support.text
        server.start()
        with capture_logs() as logs:
            again = client.post("/v1/npcs/brannoc/turns", json=body, headers=headers)
        assert again.status_code == 200, again.text
        assert not any(e["event"] == "kb.dense_unavailable" for e in logs)  # dense search is back


# -- a resolution made while Chroma is down -----------------------------------------------------


def pet_case() -> tuple[str, str]:
    """A question the demo world knows nothing of (unique per test), and staff's answer to it."""
    pet = f"glimmerfox{uuid.uuid4().hex[:6]}"
    return (
        f"My pet {pet} vanished from the stable after the patch",
        f"Pets like {pet} come back after a relog; we restored yours from the stable backup.",
    )


async def resolve_while_down(engine: Engine, server: ChromaServer, question: str, answer: str) -> Ticket:
    """Escalate ``question`` (Chroma up), stop Chroma, resolve the ticket with ``answer``."""
    tenant = engine.settings.tenant
    ticket = await engine.desk.open(
        NewTicket(
            tenant=tenant,
            persona_id="aria",
            player_id=f"p-{uuid.uuid4().hex[:8]}",
            locale="en",
            category="pets",
            priority="normal",
            reason="no_knowledge",
            reason_detail="no FAQ entry or ticket matched",
            question_redacted=question,
            summary="The player lost a pet.",
            suggested_reply="",
            sources_tried=[],
            transcript=[{"role": "player", "text": question, "at": engine.clock()}],
            created_at=engine.clock(),
        )
    )
    server.stop()
    with capture_logs() as logs:
        resolved = await engine.desk.resolve(tenant, ticket.ticket_id, staff="sam", resolution=answer)
    assert resolved.status == "resolved"  # the resolution stands; learning it failed, and says so
    assert {"support.resolution_deferred", "ticket.on_resolved_failed"} <= {e["event"] for e in logs}
    chunks = await engine.state.load_chunks(tenant, kinds=["ticket"])
    assert f"ticket:{ticket.ticket_id}" not in {c.source_id for c in chunks}
    return ticket


def test_a_ticket_resolved_while_chroma_is_down_is_answered_from_once_it_is_back_without_a_restart(
    world: Callable[[], Engine], server: ChromaServer
) -> None:
    engine = world()
    question, answer = pet_case()

    async def scenario() -> tuple[Ticket, SupportReply]:
        ticket = await resolve_while_down(engine, server, question, answer)
        server.restart()
        return ticket, await engine.support_turn("aria", "p-10", question)  # the same worker

    ticket, reply = asyncio.run(scenario())
    assert reply.answered and [c.id for c in reply.citations] == [f"ticket:{ticket.ticket_id}"]
    assert reply.text.startswith(answer)


def test_a_fresh_worker_learns_a_resolution_chroma_missed_before_its_first_answer(
    world: Callable[[], Engine], server: ChromaServer
) -> None:
    question, answer = pet_case()
    ticket = asyncio.run(resolve_while_down(world(), server, question, answer))
    server.start()
    fresh = world()
    with capture_logs() as logs:
        reply = asyncio.run(fresh.support_turn("aria", "p-11", question))
    assert reply.answered and [c.id for c in reply.citations] == [f"ticket:{ticket.ticket_id}"]
    assert any(e["event"] == "support.resolutions_caught_up" and e["learned"] >= 1 for e in logs)
