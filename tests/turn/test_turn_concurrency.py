"""Concurrent turns on one conversation are serialised: no lost update, in one worker or across workers.

On SQLite and on the real PostgreSQL (the scale-out state store).
"""

from __future__ import annotations

import asyncio
import functools
import json
from collections.abc import Callable

import pytest

from npc_engine.engine import Engine
from npc_engine.state.records import ConversationKey
from npc_engine.state.store import SqlStateStore

MakeEngine = Callable[..., Engine]
PRAISE = "Thank you, you are a brilliant smith!"
OK = json.dumps({"text": "Aye.", "emotion": "joy", "actions": []})


@pytest.fixture
def make_engine(make_engine: MakeEngine, turn_state: SqlStateStore) -> MakeEngine:
    return functools.partial(make_engine, state=turn_state)


async def _check_no_lost_update(engine: Engine, player: str, turns: int, events: int) -> None:
    key = ConversationKey("default", "brannoc", player)
    conv = await engine.state.load_conversation(key)
    assert conv.turns == turns
    messages = await engine.state.list_messages(key, limit=10_000)
    assert [m.seq for m in messages] == list(range(1, 2 * turns + 1))
    assert len(await engine.state.affect_log(key)) == events
    assert await engine.affect_state("brannoc", player, replayed=True) == await engine.affect_state(
        "brannoc", player
    )


async def test_fifty_concurrent_turns_on_one_conversation_lose_no_update(
    make_engine: MakeEngine, player: str
) -> None:
    engine = make_engine([OK])
    replies = await asyncio.gather(*(engine.npc_turn("brannoc", player, PRAISE) for _ in range(50)))
    assert sorted(r.turn for r in replies) == list(range(1, 51))
    # each turn logs the praise appraisal and the model's emotion nudge
    await _check_no_lost_update(engine, player, turns=50, events=100)
    trust = [r.relationship.axes["trust"] for r in sorted(replies, key=lambda r: r.turn)]
    assert trust == sorted(trust) and trust[-1] > trust[0]  # each turn built on the one before


async def test_turns_and_events_interleaved_lose_no_update(make_engine: MakeEngine, player: str) -> None:
    engine = make_engine([OK])
    jobs = [engine.npc_turn("brannoc", player, PRAISE) for _ in range(10)]
    jobs += [engine.npc_event("brannoc", player, "gift_received") for _ in range(10)]
    await asyncio.gather(*jobs)
    await _check_no_lost_update(engine, player, turns=10, events=30)


async def test_two_workers_sharing_one_database_lose_no_update(
    make_engine: MakeEngine, player: str, turn_state: SqlStateStore
) -> None:
    a, b = SqlStateStore(turn_state.url), SqlStateStore(turn_state.url)
    try:
        one, two = make_engine([OK], state=a), make_engine([OK], state=b)
        await asyncio.gather(
            *(one.npc_turn("brannoc", player, PRAISE) for _ in range(8)),
            *(two.npc_turn("brannoc", player, PRAISE) for _ in range(8)),
        )
        await _check_no_lost_update(one, player, turns=16, events=32)
    finally:
        a.close()
        b.close()
