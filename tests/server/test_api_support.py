"""Support over HTTP: answers with citations, escalations, the staff ticket routes, staff replies."""

from __future__ import annotations

import uuid

from fastapi.testclient import TestClient

from tests.api_world import ApiWorld


def ask(client: TestClient, world: ApiWorld, player: str, text: str) -> dict:
    answer = client.post(
        "/v1/support/aria/turns", json={"player": {"id": player}, "text": text}, headers=world.auth("a-game")
    )
    assert answer.status_code == 200, answer.text
    return answer.json()


def escalate(client: TestClient, world: ApiWorld, player: str) -> str:
    reply = ask(client, world, player, "I want to talk to a human please")
    assert reply["escalated"] and reply["ticket_id"]
    return str(reply["ticket_id"])


def test_a_faq_question_is_answered_with_a_citation(api_world: ApiWorld) -> None:
    with TestClient(api_world.app()) as client:
        reply = ask(client, api_world, "s-1", "Can I change my character's name?")
    assert reply["answered"] and not reply["escalated"]
    assert reply["citations"] and reply["citations"][0]["id"].startswith("faq:")


def test_asking_for_a_human_opens_a_ticket_staff_can_read(api_world: ApiWorld) -> None:
    with TestClient(api_world.app()) as client:
        ticket_id = escalate(client, api_world, "s-2")
        queue = client.get("/v1/tickets?status=open", headers=api_world.auth("a-staff")).json()
        ticket = client.get(f"/v1/tickets/{ticket_id}", headers=api_world.auth("a-staff")).json()
        trail = client.get(f"/v1/tickets/{ticket_id}/events", headers=api_world.auth("a-staff")).json()
    assert ticket_id in [t["ticket_id"] for t in queue["tickets"]] and queue["total"] >= 1
    assert ticket["player_id"] == "s-2" and ticket["status"] == "open" and ticket["transcript"]
    assert [e["action"] for e in trail["events"]][:1] == ["created"]
    assert trail["events"][-1] == {**trail["events"][-1], "action": "viewed", "actor": "a-staff key"}


def test_a_staff_reply_is_claimed_once_by_the_game(api_world: ApiWorld) -> None:
    with TestClient(api_world.app()) as client:
        ticket_id = escalate(client, api_world, "s-3")
        sent = client.post(
            f"/v1/tickets/{ticket_id}/replies",
            json={"text": "We fixed it.", "staff": "Alice"},
            headers=api_world.auth("a-staff"),
        )
        claim = {"player_id": "s-3"}
        first = client.post("/v1/support/replies/claim", json=claim, headers=api_world.auth("a-game")).json()
        second = client.post("/v1/support/replies/claim", json=claim, headers=api_world.auth("a-game")).json()
    assert sent.status_code == 201 and sent.json()["staff"] == "Alice"
    assert [(r["ticket_id"], r["text"]) for r in first["replies"]] == [(ticket_id, "We fixed it.")]
    assert second["replies"] == []


def test_a_retried_claim_with_its_key_gets_the_same_replies(api_world: ApiWorld) -> None:
    key = str(uuid.uuid4())
    headers = {**api_world.auth("a-game"), "Idempotency-Key": key}
    with TestClient(api_world.app()) as client:
        ticket_id = escalate(client, api_world, "s-4")
        client.post(
            f"/v1/tickets/{ticket_id}/replies", json={"text": "Done."}, headers=api_world.auth("a-staff")
        )
        first = client.post("/v1/support/replies/claim", json={"player_id": "s-4"}, headers=headers).json()
        retry = client.post("/v1/support/replies/claim", json={"player_id": "s-4"}, headers=headers).json()
    assert first == retry and len(first["replies"]) == 1


def test_status_and_resolve_follow_the_lifecycle(api_world: ApiWorld) -> None:
    with TestClient(api_world.app()) as client:
        ticket_id = escalate(client, api_world, "s-5")
        waiting = client.post(
            f"/v1/tickets/{ticket_id}/status",
            json={"status": "waiting_on_player"},
            headers=api_world.auth("a-staff"),
        )
        resolved = client.post(
            f"/v1/tickets/{ticket_id}/resolve",
            json={"resolution": "Reset the password from the launcher."},
            headers=api_world.auth("a-staff"),
        )
        again = client.post(
            f"/v1/tickets/{ticket_id}/resolve",
            json={"resolution": "Twice?"},
            headers=api_world.auth("a-staff"),
        )
    assert waiting.json()["status"] == "waiting_on_player"
    assert resolved.json()["status"] == "resolved" and resolved.json()["resolved_by"] == "a-staff key"
    assert again.status_code in (400, 409) and again.json()["code"]


def test_a_bad_status_is_422_naming_the_choices(api_world: ApiWorld) -> None:
    with TestClient(api_world.app()) as client:
        ticket_id = escalate(client, api_world, "s-6")
        answer = client.post(
            f"/v1/tickets/{ticket_id}/status", json={"status": "resolved"}, headers=api_world.auth("a-staff")
        )
    assert answer.status_code == 422 and "waiting_on_player" in answer.json()["message"]


def test_a_streamed_support_turn_ends_with_the_reply(api_world: ApiWorld) -> None:
    with TestClient(api_world.app()) as client:
        answer = client.post(
            "/v1/support/aria/turns",
            json={"player": {"id": "s-7"}, "text": "Can I change my character's name?", "stream": True},
            headers=api_world.auth("a-game"),
        )
    blocks = answer.text.strip().split("\n\n")
    assert blocks[-1].startswith("event: reply") and all(b.startswith("event: delta") for b in blocks[:-1])


def test_a_retried_support_turn_with_its_key_is_answered_once(api_world: ApiWorld) -> None:
    import asyncio

    from npc_engine.state.records import ConversationKey
    from tests.api_world import GAME_A

    key = str(uuid.uuid4())
    body = {"player": {"id": "s-8"}, "text": "Can I change my character's name?"}
    headers = {**api_world.auth("a-game"), "Idempotency-Key": key}
    with TestClient(api_world.app()) as client:
        first = client.post("/v1/support/aria/turns", json=body, headers=headers)
        retry = client.post("/v1/support/aria/turns", json=body, headers=headers)
    assert first.status_code == 200 and retry.json() == first.json()
    assert retry.headers["idempotent-replayed"] == "true"
    stored = asyncio.run(api_world.engine.state.list_messages(ConversationKey(GAME_A, "aria", "s-8")))
    assert [m.role for m in stored] == ["player", "agent"]  # one exchange, not two
