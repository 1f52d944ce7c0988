"""Two stateless workers on PostgreSQL and a Chroma server: no lost turn, no duplicate, across crashes.

Each test starts the real deployment of ``bench/load.py`` (a private PostgreSQL schema, a
``chroma run`` server on a free port, two ``npc-engine serve`` processes on their own ports)
with the hash embedder, so the load is the engine's and the databases', quickly.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator

import httpx
import pytest

from bench.load import DEFAULT_POSTGRES, Deployment, deployment, run, stored_turns


@pytest.fixture
def postgres(postgres_url: str) -> str:
    """The base URL of the real PostgreSQL (the load harness makes its own schema)."""
    return postgres_url.split("?", 1)[0] or DEFAULT_POSTGRES


@pytest.fixture
def two_workers(postgres: str) -> Iterator[Deployment]:
    with deployment(workers=2, postgres=postgres, embedder="hash", log=False) as dep:
        yield dep


@pytest.mark.parametrize("crash", ["none", "worker", "all"])
def test_players_on_two_workers_lose_no_acknowledged_turn_and_duplicate_none(
    postgres: str, crash: str
) -> None:
    result = run(players=20, seconds=9, workers=2, crash=crash, postgres=postgres, embedder="hash", log=False)
    assert result.turns > 20
    assert (result.errors, result.lost, result.duplicates) == (0, 0, 0)


async def _turn(
    http: httpx.AsyncClient, url: str, dep: Deployment, player: str, text: str, key: str | None = None
):
    headers = {"Authorization": f"Bearer {dep.secret}", **({"Idempotency-Key": key} if key else {})}
    return await http.post(
        f"{url}/v1/npcs/brannoc/turns", json={"player": {"id": player}, "text": text}, headers=headers
    )


def test_turns_on_one_conversation_through_both_workers_are_serialised(two_workers: Deployment) -> None:
    urls, player = two_workers.workers.urls, f"p-{uuid.uuid4().hex[:6]}"

    async def go() -> list[httpx.Response]:
        async with httpx.AsyncClient(timeout=60) as http:
            return await asyncio.gather(
                *(_turn(http, urls[i % 2], two_workers, player, f"message {i}") for i in range(16))
            )

    answers = asyncio.run(go())
    assert all(a.status_code == 200 for a in answers), [a.text for a in answers if a.status_code != 200]
    assert sorted(a.json()["turn"] for a in answers) == list(range(1, 17))  # no two turns saw the same state
    stored = asyncio.run(stored_turns(two_workers.state_url, [player]))[player]
    assert sorted(stored) == sorted(f"message {i}" for i in range(16))


def test_one_idempotency_key_sent_to_both_workers_runs_the_turn_once(two_workers: Deployment) -> None:
    urls, player, key = two_workers.workers.urls, f"p-{uuid.uuid4().hex[:6]}", str(uuid.uuid4())

    async def go() -> list[httpx.Response]:
        async with httpx.AsyncClient(timeout=60) as http:
            first = await asyncio.gather(
                *(_turn(http, url, two_workers, player, "hello", key) for url in urls)
            )
            again = await _turn(http, urls[1], two_workers, player, "hello", key)
            return [*first, again]

    answers = asyncio.run(go())
    ok = [a for a in answers if a.status_code == 200]
    assert ok and all(a.json() == ok[0].json() for a in ok)
    assert all(a.status_code == 200 or a.json()["code"] == "idempotency_in_progress" for a in answers)
    assert asyncio.run(stored_turns(two_workers.state_url, [player]))[player] == ["hello"]
