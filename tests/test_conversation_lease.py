"""The turn lease, on SQLite and the real PostgreSQL: one turn per conversation at a time.

A first turn leases ``conversation_leases``; later turns lease the conversation's row in the
statement that reads it, and the commit ends the lease.
"""

from __future__ import annotations

import uuid

import pytest

from npc_engine.state.records import ConversationKey, TurnWrite
from npc_engine.state.store import SqlStateStore

TTL = 60.0


@pytest.fixture
def key() -> ConversationKey:
    return ConversationKey("t", "brannoc", f"p-{uuid.uuid4().hex[:8]}")


def write(key: ConversationKey, version: int, holder: str, at: float) -> TurnWrite:
    return TurnWrite(
        key=key,
        expected_version=version,
        started_at=100.0,
        at=at,
        affect={"v": version + 1},
        summary="",
        summarised_upto=0,
        turns_added=1,
        messages=[("player", "hi", {}), ("npc", "aye", {})],
        lease_holder=holder,
    )


async def test_a_first_turn_holds_its_conversation_until_it_commits(
    store: SqlStateStore, key: ConversationKey
) -> None:
    assert (await store.begin_turn(key, "a", now=100.0, ttl_s=TTL)) is not None
    assert await store.begin_turn(key, "b", now=101.0, ttl_s=TTL) is None
    await store.commit_turn(write(key, 0, "a", 102.0))
    conv = await store.begin_turn(key, "b", now=103.0, ttl_s=TTL)
    assert conv is not None and conv.version == 1 and len(conv.history) == 2


async def test_a_later_turn_leases_the_row_and_its_commit_ends_the_lease(
    store: SqlStateStore, key: ConversationKey
) -> None:
    await store.begin_turn(key, "a", now=100.0, ttl_s=TTL)
    await store.commit_turn(write(key, 0, "a", 101.0))
    assert (await store.begin_turn(key, "b", now=102.0, ttl_s=TTL)) is not None
    assert await store.begin_turn(key, "c", now=103.0, ttl_s=TTL) is None  # b holds it
    assert (await store.begin_turn(key, "b", now=103.5, ttl_s=TTL)) is not None  # b may take it again
    await store.commit_turn(write(key, 1, "b", 104.0))
    conv = await store.begin_turn(key, "c", now=105.0, ttl_s=TTL)
    assert conv is not None and conv.version == 2


async def test_a_released_lease_frees_the_conversation(store: SqlStateStore, key: ConversationKey) -> None:
    await store.begin_turn(key, "a", now=100.0, ttl_s=TTL)
    await store.commit_turn(write(key, 0, "a", 101.0))
    await store.begin_turn(key, "b", now=102.0, ttl_s=TTL)
    await store.release_lease(key, "b")  # the turn failed before committing
    assert (await store.begin_turn(key, "c", now=103.0, ttl_s=TTL)) is not None


async def test_a_dead_workers_lease_expires(store: SqlStateStore, key: ConversationKey) -> None:
    await store.begin_turn(key, "a", now=100.0, ttl_s=TTL)
    await store.commit_turn(write(key, 0, "a", 101.0))
    await store.begin_turn(key, "crashed", now=102.0, ttl_s=TTL)
    assert await store.begin_turn(key, "b", now=102.0 + TTL - 1, ttl_s=TTL) is None
    assert (await store.begin_turn(key, "b", now=102.0 + TTL + 1, ttl_s=TTL)) is not None


async def test_a_commit_does_not_end_another_holders_lease(
    store: SqlStateStore, key: ConversationKey
) -> None:
    await store.begin_turn(key, "a", now=100.0, ttl_s=TTL)
    await store.commit_turn(write(key, 0, "a", 101.0))
    await store.begin_turn(key, "b", now=102.0, ttl_s=TTL)
    await store.commit_turn(write(key, 1, "x", 103.0))  # a commit that did not hold the lease
    assert await store.begin_turn(key, "c", now=104.0, ttl_s=TTL) is None  # still b's


async def test_a_reset_frees_a_first_turns_lease(store: SqlStateStore, key: ConversationKey) -> None:
    await store.begin_turn(key, "a", now=100.0, ttl_s=TTL)  # a first turn that never commits
    await store.reset_conversation(key)
    assert (await store.begin_turn(key, "b", now=101.0, ttl_s=TTL)) is not None


async def test_a_renewed_lease_outlives_its_first_expiry(store: SqlStateStore, key: ConversationKey) -> None:
    await store.begin_turn(key, "a", now=100.0, ttl_s=TTL)
    await store.commit_turn(write(key, 0, "a", 101.0))
    await store.begin_turn(key, "b", now=102.0, ttl_s=TTL)
    assert await store.renew_lease(key, "b", now=102.0 + TTL - 1, ttl_s=TTL)  # b's heartbeat
    assert await store.begin_turn(key, "c", now=102.0 + TTL + 1, ttl_s=TTL) is None  # still b's
    await store.commit_turn(write(key, 1, "b", 103.0 + TTL))
    assert not await store.renew_lease(key, "b", now=104.0 + TTL, ttl_s=TTL)  # over: nothing to renew


async def test_a_first_turns_lease_is_renewed_in_the_lease_table(
    store: SqlStateStore, key: ConversationKey
) -> None:
    await store.begin_turn(key, "a", now=100.0, ttl_s=TTL)
    assert await store.renew_lease(key, "a", now=100.0 + TTL - 1, ttl_s=TTL)
    assert await store.begin_turn(key, "b", now=100.0 + TTL + 1, ttl_s=TTL) is None
