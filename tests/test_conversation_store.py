"""Conversations in the SQL state store, on SQLite and the real PostgreSQL.

What a turn commits is exactly what the next turn reads; a commit from a stale read writes
nothing; erasing a player or a conversation removes its rows and no one else's.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Sequence
from typing import Any

import numpy as np
import pytest

from npc_engine.errors import ConflictError
from npc_engine.state.records import ConversationKey, StoredMemory, TurnWrite
from npc_engine.state.store import SqlStateStore

T0 = 1_700_000_000.123456  # sub-second times must come back exactly (no float4, no rounding)


@pytest.fixture
def tenant() -> str:
    return f"t-{uuid.uuid4().hex[:10]}"


def memory(memory_id: str, text: str = "likes the forge", **over: Any) -> StoredMemory:
    fields: dict[str, Any] = {
        "memory_id": memory_id,
        "text": text,
        "kind": "preference",
        "key": None,
        "importance": 0.5,
        "created_at": T0,
        "last_used_at": T0,
        "vector": None,
    }
    fields.update(over)
    return StoredMemory(**fields)


def turn(
    key: ConversationKey,
    version: int,
    *,
    at: float = T0,
    said: Sequence[str] = ("hello", "aye"),
    events: int = 1,
    summary: str = "",
    summarised_upto: int = 0,
    **over: Any,
) -> TurnWrite:
    """One turn's write: ``said`` alternates player and NPC lines; one affect event per ``events``."""
    fields: dict[str, Any] = {
        "key": key,
        "expected_version": version,
        "started_at": T0,
        "at": at,
        "affect": {"version": version + 1, "mood": {"joy": 0.25}},
        "summary": summary,
        "summarised_upto": summarised_upto,
        "turns_added": 1,
        "messages": [(("player", "npc")[i % 2], text, {"i": i}) for i, text in enumerate(said)],
        "events": [({"type": "spoke", "turn": version + 1, "n": n}, {"trust": 0.01}) for n in range(events)],
    }
    fields.update(over)
    return TurnWrite(**fields)


async def commit_turns(store: SqlStateStore, key: ConversationKey, count: int, **kwargs: Any) -> None:
    for version in range(count):
        await store.commit_turn(turn(key, version, said=(f"q{version}", f"a{version}"), **kwargs))


async def test_a_conversation_never_written_is_empty_at_version_zero(
    store: SqlStateStore, tenant: str
) -> None:
    key = ConversationKey(tenant, "brannoc", "p1")
    conv = await store.load_conversation(key)
    assert (conv.version, conv.history, conv.memories, conv.affect) == (0, (), (), None)
    assert await store.list_messages(key) == []
    assert await store.affect_log(key) == []


async def test_a_committed_turn_reads_back_exactly(store: SqlStateStore, tenant: str) -> None:
    key = ConversationKey(tenant, "brannoc", "p1")
    vector = np.linspace(-1, 1, 384, dtype=np.float32).tobytes()
    kept = memory("m1", "Kaelith · from Saltmere — «ñandú» 🐉", key="name", vector=vector, importance=0.875)
    meta = {"emotion": "joy", "actions": [{"id": "wave", "args": {}}], "usage": {"tokens": 12}}
    write = turn(
        key,
        0,
        said=("¿Dónde está la forja?", "Aquí, 鍛冶場."),
        messages=[("player", "¿Dónde está la forja?", {}), ("npc", "Aquí, 鍛冶場.", meta)],
        memories_upsert=[kept, memory("m2")],
        summary="They met at the forge.",
    )
    assert await store.commit_turn(write) == 1
    conv = await store.load_conversation(key)
    assert (conv.version, conv.turns, conv.last_message_seq, conv.last_event_seq) == (1, 1, 2, 1)
    assert (conv.started_at, conv.updated_at) == (T0, T0)
    assert conv.affect == {"version": 1, "mood": {"joy": 0.25}}
    assert conv.summary == "They met at the forge."
    assert [(m.seq, m.role, m.text, m.meta, m.at) for m in conv.history] == [
        (1, "player", "¿Dónde está la forja?", {}, T0),
        (2, "npc", "Aquí, 鍛冶場.", meta, T0),
    ]
    assert conv.memories == (kept, memory("m2"))
    assert isinstance(conv.memories[0].vector, bytes)
    assert await store.affect_log(key) == [{"type": "spoke", "turn": 1, "n": 0}]


async def test_each_commit_moves_the_version_and_numbers_messages_and_events_on(
    store: SqlStateStore, tenant: str
) -> None:
    key = ConversationKey(tenant, "brannoc", "p1")
    assert await store.commit_turn(turn(key, 0, said=("a", "b", "c"), events=2)) == 1
    assert await store.commit_turn(turn(key, 1, said=("d", "e"), events=0)) == 2
    assert await store.commit_turn(turn(key, 2, said=(), events=3, turns_added=0)) == 3  # a game event
    conv = await store.load_conversation(key)
    assert (conv.version, conv.turns, conv.last_message_seq, conv.last_event_seq) == (3, 2, 5, 5)
    assert [(m.seq, m.text) for m in conv.history] == [(1, "a"), (2, "b"), (3, "c"), (4, "d"), (5, "e")]


async def test_a_commit_from_a_stale_read_conflicts_and_writes_nothing(
    store: SqlStateStore, tenant: str
) -> None:
    key = ConversationKey(tenant, "brannoc", "p1")
    await store.commit_turn(turn(key, 0, memories_upsert=[memory("m1")]))
    await store.commit_turn(turn(key, 1))
    before = await store.load_conversation(key)
    stale = turn(
        key,
        1,
        said=("lost",),
        memories_upsert=[memory("m9")],
        memories_delete=["m1"],
        memories_touch=["m1"],
        at=T0 + 60,
    )
    with pytest.raises(ConflictError, match="changed during the turn"):
        await store.commit_turn(stale)
    assert await store.load_conversation(key) == before
    assert len(await store.affect_log(key)) == 2


async def test_a_second_first_turn_conflicts_and_writes_nothing(store: SqlStateStore, tenant: str) -> None:
    key = ConversationKey(tenant, "brannoc", "p1")
    await store.commit_turn(turn(key, 0, said=("first",)))
    with pytest.raises(ConflictError, match="started by a concurrent turn"):
        await store.commit_turn(turn(key, 0, said=("second",), memories_upsert=[memory("m1")]))
    conv = await store.load_conversation(key)
    assert ([m.text for m in conv.history], conv.memories, conv.version) == (["first"], (), 1)


async def test_commits_racing_from_two_workers_lose_no_update(state_url_any: str, tenant: str) -> None:
    """No lease here: the compare-and-set alone keeps every turn (what the lease only makes cheaper)."""
    key = ConversationKey(tenant, "brannoc", "p1")
    workers = [SqlStateStore(state_url_any) for _ in range(2)]

    async def run_turns(worker: int, store: SqlStateStore) -> int:
        conflicts = 0
        for n in range(8):
            while True:
                conv = await store.load_conversation(key)
                write = turn(key, conv.version, said=(f"w{worker}-{n}",), turns_added=1)
                try:
                    await store.commit_turn(write)
                    break
                except ConflictError:
                    conflicts += 1
        return conflicts

    try:
        await asyncio.gather(*(run_turns(i, s) for i, s in enumerate(workers) for _ in range(2)))
    finally:
        for worker in workers:
            worker.close()
    check = SqlStateStore(state_url_any)
    try:
        conv = await check.load_conversation(key, history_limit=1000)
        messages = await check.list_messages(key, limit=1000)
        log = await check.affect_log(key)
    finally:
        check.close()
    assert (conv.version, conv.turns, conv.last_message_seq) == (32, 32, 32)
    assert [m.seq for m in messages] == list(range(1, 33))
    assert sorted(m.text for m in messages) == sorted(
        f"w{w}-{n}" for w in (0, 1) for n in range(8) for _ in "ab"
    )
    assert [e["turn"] for e in log] == list(range(1, 33))  # each turn built on the one before


async def test_history_is_the_newest_unsummarised_messages_oldest_first(
    store: SqlStateStore, tenant: str
) -> None:
    key = ConversationKey(tenant, "brannoc", "p1")
    await commit_turns(store, key, 5)  # messages 1..10
    await store.commit_turn(
        turn(key, 5, said=("q5", "a5"), summary="Earlier: five turns.", summarised_upto=4)
    )
    assert [m.seq for m in (await store.load_conversation(key)).history] == list(range(5, 13))
    assert [m.seq for m in (await store.load_conversation(key, history_limit=3)).history] == [10, 11, 12]


async def test_list_messages_pages_back_from_the_newest(store: SqlStateStore, tenant: str) -> None:
    key = ConversationKey(tenant, "brannoc", "p1")
    await commit_turns(store, key, 12, summarised_upto=20)  # 24 messages; paging ignores the summary
    pages, before = [], None
    while page := await store.list_messages(key, limit=10, before_seq=before):
        pages.append([m.seq for m in page])
        before = page[0].seq
    assert pages == [list(range(15, 25)), list(range(5, 15)), list(range(1, 5))]
    assert [m.text for m in await store.list_messages(key, limit=2)] == ["q11", "a11"]


async def test_the_affect_log_comes_back_in_commit_order(store: SqlStateStore, tenant: str) -> None:
    key = ConversationKey(tenant, "brannoc", "p1")
    for version in range(6):
        await store.commit_turn(turn(key, version, events=3))  # seqs past 9: number order, not text order
    log = await store.affect_log(key)
    assert [(e["turn"], e["n"]) for e in log] == [(t, n) for t in range(1, 7) for n in range(3)]


async def test_memories_are_upserted_deleted_and_touched(store: SqlStateStore, tenant: str) -> None:
    key = ConversationKey(tenant, "brannoc", "p1")
    await store.commit_turn(turn(key, 0, memories_upsert=[memory("m1"), memory("m2"), memory("m3")]))
    changed = memory("m1", "now hates the forge", importance=0.9, key="forge")
    await store.commit_turn(
        turn(key, 1, at=T0 + 60, memories_upsert=[changed], memories_delete=["m2"], memories_touch=["m3"])
    )
    memories = {m.memory_id: m for m in (await store.load_conversation(key)).memories}
    assert memories == {"m1": changed, "m3": memory("m3", last_used_at=T0 + 60)}


async def test_a_player_is_forgotten_by_every_npc_and_no_one_else_is(
    store: SqlStateStore, tenant: str
) -> None:
    other_tenant = f"{tenant}-b"
    forgotten = [ConversationKey(tenant, "brannoc", "p1"), ConversationKey(tenant, "sable", "p1")]
    kept = [ConversationKey(tenant, "brannoc", "p2"), ConversationKey(other_tenant, "brannoc", "p1")]
    for key in forgotten + kept:  # each: 1 conversation, 2 messages, 1 event, 1 memory
        await store.commit_turn(turn(key, 0, memories_upsert=[memory("m1")]))
    before = {key: await store.load_conversation(key) for key in kept}
    first_turn = ConversationKey(tenant, "marisol", "p1")
    assert await store.begin_turn(first_turn, "worker-a", now=T0, ttl_s=60) is not None  # in flight

    assert await store.forget_player(tenant, "p1") == 10
    for key in forgotten:
        conv = await store.load_conversation(key)
        assert (conv.version, conv.history, conv.memories) == (0, (), ())
        assert await store.affect_log(key) == []
    for key in kept:
        assert await store.load_conversation(key) == before[key]
        assert len(await store.affect_log(key)) == 1
    # the in-flight first turn's lease named the player too: it is gone
    assert await store.begin_turn(first_turn, "worker-b", now=T0 + 1, ttl_s=60) is not None
    assert await store.forget_player(tenant, "p1") == 0


async def test_a_reset_erases_one_conversation_and_nothing_else(store: SqlStateStore, tenant: str) -> None:
    reset = ConversationKey(tenant, "brannoc", "p1")
    kept = [
        ConversationKey(tenant, "sable", "p1"),
        ConversationKey(tenant, "brannoc", "p2"),
        ConversationKey(f"{tenant}-b", "brannoc", "p1"),
    ]
    for key in [reset, *kept]:
        await store.commit_turn(turn(key, 0, memories_upsert=[memory("m1")]))
    before = {key: await store.load_conversation(key) for key in kept}
    assert await store.reset_conversation(reset) == 5
    conv = await store.load_conversation(reset)
    assert (conv.version, conv.history, conv.memories) == (0, (), ())
    assert await store.affect_log(reset) == []
    for key in kept:
        assert await store.load_conversation(key) == before[key]
    assert await store.commit_turn(turn(reset, 0)) == 1  # it starts afresh
