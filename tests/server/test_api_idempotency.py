"""``Idempotency-Key``: a retried turn runs once, across restarts; a reused key is refused."""

from __future__ import annotations

import asyncio
import uuid

import httpx
from fastapi.testclient import TestClient

from npc_engine.state.records import ConversationKey
from tests.api_world import GAME_A, ApiWorld

BODY = {"player": {"id": "p-idem"}, "text": "Hello smith"}


def post(
    client: TestClient, world: ApiWorld, key: str, body: dict | None = None, path: str = "turns"
) -> httpx.Response:
    return client.post(
        f"/v1/npcs/brannoc/{path}",
        json=body or BODY,
        headers={**world.auth("a-game"), "Idempotency-Key": key},
    )


async def stored_messages(world: ApiWorld, player: str) -> int:
    return len(await world.engine.state.list_messages(ConversationKey(GAME_A, "brannoc", player)))


def test_a_retry_with_the_same_key_returns_the_first_reply_without_running_again(api_world: ApiWorld) -> None:
    key = str(uuid.uuid4())
    with TestClient(api_world.app()) as client:
        first = post(client, api_world, key)
        asked = len(api_world.model.requests)
        retry = post(client, api_world, key)
    assert first.status_code == retry.status_code == 200
    assert retry.json() == first.json()
    assert retry.headers["idempotent-replayed"] == "true"
    assert len(api_world.model.requests) == asked  # the model was not asked again
    assert asyncio.run(stored_messages(api_world, "p-idem")) == 2  # one turn stored, not two


def test_the_key_is_remembered_across_a_restart(api_world: ApiWorld) -> None:
    key = str(uuid.uuid4())
    with TestClient(api_world.app()) as client:
        first = post(client, api_world, key)
    api_world.restart()
    with TestClient(api_world.app()) as client:
        retry = post(client, api_world, key)
    assert retry.json() == first.json()
    assert api_world.model.requests == []  # the new process never ran the turn


def test_the_same_key_with_another_body_is_409_reused(api_world: ApiWorld) -> None:
    key = str(uuid.uuid4())
    with TestClient(api_world.app()) as client:
        post(client, api_world, key)
        other = post(client, api_world, key, {"player": {"id": "p-idem"}, "text": "Something else"})
    assert other.status_code == 409
    assert other.json()["code"] == "idempotency_key_reused"


def test_the_same_key_on_another_route_is_409_reused(api_world: ApiWorld) -> None:
    key = str(uuid.uuid4())
    with TestClient(api_world.app()) as client:
        post(client, api_world, key)
        other = post(
            client, api_world, key, {"player": {"id": "p-idem"}, "event": {"type": "gift_received"}}, "events"
        )
    assert other.status_code == 409 and other.json()["code"] == "idempotency_key_reused"


def test_keys_belong_to_their_tenant(api_world: ApiWorld) -> None:
    key = str(uuid.uuid4())
    with TestClient(api_world.app()) as client:
        post(client, api_world, key)
        theirs = client.post(
            "/v1/npcs/brannoc/turns", json=BODY, headers={**api_world.auth("b-game"), "Idempotency-Key": key}
        )
    assert theirs.status_code == 200 and "idempotent-replayed" not in theirs.headers
    assert theirs.json()["turn"] == 1


async def test_a_retry_while_the_first_runs_is_409_in_progress_and_the_turn_runs_once(
    tmp_path: object,
) -> None:
    from pathlib import Path

    world = await asyncio.to_thread(ApiWorld.build, Path(str(tmp_path)))
    world.restart(delay_s=0.5)
    app = world.app()
    key = str(uuid.uuid4())
    headers = {**world.auth("a-game"), "Idempotency-Key": key}
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as client:
        first = asyncio.create_task(client.post("/v1/npcs/brannoc/turns", json=BODY, headers=headers))
        await asyncio.sleep(0.2)
        during = await client.post("/v1/npcs/brannoc/turns", json=BODY, headers=headers)
        done = await first
        after = await client.post("/v1/npcs/brannoc/turns", json=BODY, headers=headers)
    world.close()
    assert during.status_code == 409 and during.json()["code"] == "idempotency_in_progress"
    assert done.status_code == 200 and after.json() == done.json()
    assert len(world.model.requests) == 1


def test_a_failed_request_leaves_its_key_free(api_world: ApiWorld) -> None:
    key = str(uuid.uuid4())
    with TestClient(api_world.app()) as client:
        missing = client.post(
            "/v1/npcs/nobody/turns", json=BODY, headers={**api_world.auth("a-game"), "Idempotency-Key": key}
        )
        api_world.restart()
    with TestClient(api_world.app()) as client:
        again = client.post(
            "/v1/npcs/brannoc/turns", json=BODY, headers={**api_world.auth("a-game"), "Idempotency-Key": key}
        )
    assert missing.status_code == 404
    assert again.status_code == 200 and "idempotent-replayed" not in again.headers


def test_a_streamed_turn_is_replayed_as_its_final_reply(api_world: ApiWorld) -> None:
    key = str(uuid.uuid4())
    body = {**BODY, "player": {"id": "p-idem-stream"}, "stream": True}
    with TestClient(api_world.app()) as client:
        first = post(client, api_world, key, body)
        asked = len(api_world.model.requests)
        retry = post(client, api_world, key, body)
    assert retry.headers["idempotent-replayed"] == "true"
    assert retry.text.startswith("event: reply\n")
    assert first.text.split("event: reply\n")[1] == retry.text.split("event: reply\n")[1]
    assert len(api_world.model.requests) == asked


def test_a_malformed_key_is_400(api_world: ApiWorld) -> None:
    with TestClient(api_world.app()) as client:
        answer = post(client, api_world, "has spaces in it")
    assert answer.status_code == 400 and "Idempotency-Key" in answer.json()["message"]
