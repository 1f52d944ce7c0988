"""Idempotency keys in the state store, on SQLite and the real PostgreSQL: one claim wins."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator

import pytest

from npc_engine.state.store import SqlStateStore


@pytest.fixture
def state_url(state_url_any: str) -> str:
    return state_url_any


@pytest.fixture
def store(state_url: str) -> Iterator[SqlStateStore]:
    state = SqlStateStore(state_url)
    yield state
    state.close()


@pytest.fixture
def key() -> str:
    return str(uuid.uuid4())


async def test_the_first_claim_owns_the_key(store: SqlStateStore, key: str) -> None:
    assert await store.claim_idempotency("t", key, "h1", now=100.0, lock_s=60) is None
    held = await store.claim_idempotency("t", key, "h1", now=101.0, lock_s=60)
    assert held is not None and not held.done and held.request_hash == "h1"


async def test_a_finished_claim_returns_its_answer(store: SqlStateStore, key: str) -> None:
    await store.claim_idempotency("t", key, "h1", now=100.0, lock_s=60)
    await store.finish_idempotency("t", key, status_code=200, response='{"ok":true}')
    held = await store.claim_idempotency("t", key, "h1", now=101.0, lock_s=60)
    assert held is not None and held.done and (held.status_code, held.response) == (200, '{"ok":true}')


async def test_a_released_claim_can_be_claimed_again(store: SqlStateStore, key: str) -> None:
    await store.claim_idempotency("t", key, "h1", now=100.0, lock_s=60)
    await store.release_idempotency("t", key)
    assert await store.claim_idempotency("t", key, "h2", now=101.0, lock_s=60) is None


async def test_a_dead_workers_claim_is_taken_over_after_its_lock(store: SqlStateStore, key: str) -> None:
    await store.claim_idempotency("t", key, "h1", now=100.0, lock_s=60)
    assert await store.claim_idempotency("t", key, "h1", now=159.0, lock_s=60) is not None
    assert await store.claim_idempotency("t", key, "h1", now=161.0, lock_s=60) is None


async def test_a_stale_claim_with_another_request_is_not_taken_over(store: SqlStateStore, key: str) -> None:
    await store.claim_idempotency("t", key, "h1", now=100.0, lock_s=60)
    held = await store.claim_idempotency("t", key, "other", now=500.0, lock_s=60)
    assert held is not None and held.request_hash == "h1"


async def test_keys_are_per_tenant(store: SqlStateStore, key: str) -> None:
    assert await store.claim_idempotency("a", key, "h", now=100.0, lock_s=60) is None
    assert await store.claim_idempotency("b", key, "h", now=100.0, lock_s=60) is None


async def test_of_many_racing_claims_exactly_one_wins(state_url: str, key: str) -> None:
    stores = [SqlStateStore(state_url) for _ in range(4)]
    try:
        results = await asyncio.gather(
            *(s.claim_idempotency("t", key, "h", now=100.0, lock_s=60) for s in stores for _ in range(5))
        )
    finally:
        for s in stores:
            s.close()
    assert sum(r is None for r in results) == 1


async def test_purge_drops_only_old_keys(store: SqlStateStore) -> None:
    old, new = str(uuid.uuid4()), str(uuid.uuid4())
    await store.claim_idempotency("t", old, "h", now=100.0, lock_s=60)
    await store.claim_idempotency("t", new, "h", now=10_000.0, lock_s=60)
    assert await store.purge_idempotency(before=5_000.0) >= 1  # other tests' old keys go too
    assert await store.claim_idempotency("t", old, "h", now=10_001.0, lock_s=60) is None
    assert await store.claim_idempotency("t", new, "h", now=10_001.0, lock_s=60) is not None


async def test_a_renewed_claim_is_not_taken_over(store: SqlStateStore, key: str) -> None:
    await store.claim_idempotency("t", key, "h1", now=100.0, lock_s=60)
    await store.renew_idempotency("t", key, now=150.0, lock_s=60)
    assert await store.claim_idempotency("t", key, "h1", now=161.0, lock_s=60) is not None
    assert await store.claim_idempotency("t", key, "h1", now=211.0, lock_s=60) is None


async def test_a_receipt_commits_with_the_turn_and_finishes_the_key(store: SqlStateStore, key: str) -> None:
    from npc_engine.state.records import ConversationKey, Receipt, TurnWrite

    conversation = ConversationKey("t", "brannoc", f"p-{key[:8]}")
    await store.claim_idempotency("t", key, "h", now=100.0, lock_s=60)
    turn = TurnWrite(
        key=conversation,
        expected_version=0,
        started_at=100.0,
        at=100.0,
        affect={},
        summary="",
        summarised_upto=0,
        turns_added=1,
        messages=[("player", "hi", {})],
        receipt=Receipt("t", key, 200, '{"text":"aye"}'),
    )
    await store.commit_turn(turn)  # the worker dies here: it never calls finish_idempotency
    held = await store.claim_idempotency("t", key, "h", now=500.0, lock_s=60)
    assert held is not None and held.done and held.response == '{"text":"aye"}'


async def test_a_receipt_of_a_turn_that_lost_its_race_is_not_recorded(store: SqlStateStore, key: str) -> None:
    from npc_engine.errors import ConflictError
    from npc_engine.state.records import ConversationKey, Receipt, TurnWrite

    conversation = ConversationKey("t", "brannoc", f"p-{key[:8]}")
    await store.claim_idempotency("t", key, "h", now=100.0, lock_s=60)
    stale = TurnWrite(
        key=conversation,
        expected_version=3,  # the conversation is not at version 3: the commit fails
        started_at=100.0,
        at=100.0,
        affect={},
        summary="",
        summarised_upto=0,
        turns_added=1,
        receipt=Receipt("t", key, 200, "{}"),
    )
    with pytest.raises(ConflictError):
        await store.commit_turn(stale)
    held = await store.claim_idempotency("t", key, "h", now=101.0, lock_s=60)
    assert held is not None and not held.done
