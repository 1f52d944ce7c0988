"""PostgreSQL cut off under a running server: a clear 503 at once, nothing half-written, back by itself.

The server's state URL goes through a :class:`~npc_engine.devservices.CuttableProxy` in front
of the real PostgreSQL; ``cut()`` closes every connection and refuses new ones (a database
restart, a network partition), ``heal()`` lets them through again. The same app, never
restarted, must answer every request in the outage with ``503 state_store_error`` quickly
(never a 500 or a hang), and work again once the database is back, with the retried turn
stored once.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import make_url

from npc_engine.devservices import CuttableProxy
from npc_engine.state.records import ConversationKey
from tests.api_world import GAME_A, ApiWorld

OUTAGE_BOUND_S = 10.0  # every answer during the outage comes well within this


@pytest.fixture
def cut_world(fresh_postgres_url: str, tmp_path: Path) -> Iterator[tuple[ApiWorld, CuttableProxy]]:
    real = make_url(fresh_postgres_url)
    with CuttableProxy(f"{real.host or '127.0.0.1'}:{real.port or 5432}") as proxy:
        url = real.set(host="127.0.0.1", port=proxy.port).render_as_string(hide_password=False)
        world = ApiWorld.build(tmp_path, state_url=url)
        try:
            yield world, proxy
        finally:
            proxy.heal()
            world.close()


def _turn(client: TestClient, world: ApiWorld, player: str, text: str, key: str) -> object:
    return client.post(
        "/v1/npcs/brannoc/turns",
        json={"player": {"id": player}, "text": text},
        headers={**world.auth("a-game"), "Idempotency-Key": key},
    )


def test_with_postgresql_cut_off_every_request_is_a_clear_503_and_the_same_server_recovers(
    cut_world: tuple[ApiWorld, CuttableProxy],
) -> None:
    world, proxy = cut_world
    with TestClient(world.app(), raise_server_exceptions=False) as client:
        first = _turn(client, world, "p-cut", "Hello smith", "k-1")
        assert first.status_code == 200, first.text

        proxy.cut()
        calls = {
            "npc turn": lambda: _turn(client, world, "p-cut", "Can you mend my shield?", "k-2"),
            "game event": lambda: client.post(
                "/v1/npcs/brannoc/events",
                json={"player": {"id": "p-cut"}, "event": {"type": "gift_received", "magnitude": 1}},
                headers={**world.auth("a-game"), "Idempotency-Key": "k-3"},
            ),
            "support turn": lambda: client.post(
                "/v1/support/aria/turns",
                json={"player": {"id": "p-cut"}, "text": "How do I change my name?"},
                headers=world.auth("a-game"),
            ),
            "conversation": lambda: client.get(
                "/v1/npcs/brannoc/conversations/p-cut", headers=world.auth("a-game")
            ),
            "ticket queue": lambda: client.get("/v1/tickets", headers=world.auth("a-staff")),
        }
        for what, call in calls.items():
            started = time.monotonic()
            answer = call()
            took = time.monotonic() - started
            assert answer.status_code == 503, f"{what}: {answer.status_code} {answer.text}"
            body = answer.json()
            assert body["code"] == "state_store_error" and body["request_id"], what
            assert "state store" in body["message"], what
            assert took < OUTAGE_BOUND_S, f"{what} took {took:.1f} s"
        ready = client.get("/readyz")
        assert ready.status_code == 503 and ready.json()["checks"]["state_store"] != "ok"
        assert proxy.refused > 0  # the server did try to reconnect, and was refused

        proxy.heal()
        again = _turn(client, world, "p-cut", "Can you mend my shield?", "k-2")  # the client's retry
        assert again.status_code == 200, again.text
        assert again.json()["turn"] == 2
        assert client.get("/readyz").status_code == 200
        replayed = _turn(client, world, "p-cut", "Can you mend my shield?", "k-2")
        assert replayed.json() == again.json() and replayed.headers.get("Idempotent-Replayed") == "true"

    async def stored() -> list[str]:
        messages = await world.engine.state.list_messages(ConversationKey(GAME_A, "brannoc", "p-cut"))
        return [m.text for m in messages if m.role == "player"]

    assert asyncio.run(stored()) == ["Hello smith", "Can you mend my shield?"]  # nothing half-written
