"""The NPC routes: turns (JSON and SSE), game events, conversations read and reset."""

from __future__ import annotations

import json
from urllib.parse import quote

from fastapi.testclient import TestClient

from tests.api_world import ApiWorld


def turn(
    client: TestClient, world: ApiWorld, player: str, text: str = "Hello smith", **extra: object
) -> dict:
    answer = client.post(
        "/v1/npcs/brannoc/turns",
        json={"player": {"id": player}, "text": text, **extra},
        headers=world.auth("a-game"),
    )
    assert answer.status_code == 200, answer.text
    return answer.json()


def sse_events(text: str) -> list[tuple[str, dict]]:
    events = []
    for block in text.strip().split("\n\n"):
        lines = dict(line.split(": ", 1) for line in block.splitlines())
        events.append((lines["event"], json.loads(lines["data"])))
    return events


def test_a_turn_answers_with_text_emotion_relationship_and_validated_actions(api_world: ApiWorld) -> None:
    with TestClient(api_world.app()) as client:
        reply = turn(client, api_world, "p-1")
    assert reply["text"] == "Aye, take this horseshoe for luck."
    assert reply["emotion"]["label"] and len(reply["emotion"]["vector"]) == 8
    assert reply["relationship"]["stage"] == "stranger"
    assert reply["actions"] == [{"name": "give_item", "args": {"item_id": "horseshoe"}}]
    assert reply["turn"] == 1 and reply["usage"]["prompt_tokens"] > 0
    assert reply["debug"] == {}  # only on request


def test_debug_is_included_when_asked(api_world: ApiWorld) -> None:
    with TestClient(api_world.app()) as client:
        reply = turn(client, api_world, "p-dbg", debug=True)
    assert reply["debug"]


def test_a_streamed_turn_sends_deltas_then_one_reply(api_world: ApiWorld) -> None:
    with TestClient(api_world.app()) as client:
        answer = client.post(
            "/v1/npcs/brannoc/turns",
            json={"player": {"id": "p-stream"}, "text": "Hello smith", "stream": True},
            headers=api_world.auth("a-game"),
        )
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/event-stream")
    events = sse_events(answer.text)
    assert [name for name, _ in events][-1] == "reply"
    assert all(name == "delta" for name, _ in events[:-1]) and len(events) >= 2
    shown = "".join(data["text"] for name, data in events if name == "delta")
    assert shown == events[-1][1]["text"] == "Aye, take this horseshoe for luck."


def test_accept_event_stream_also_streams(api_world: ApiWorld) -> None:
    with TestClient(api_world.app()) as client:
        answer = client.post(
            "/v1/npcs/brannoc/turns",
            json={"player": {"id": "p-accept"}, "text": "Hello"},
            headers={**api_world.auth("a-game"), "Accept": "text/event-stream"},
        )
    assert sse_events(answer.text)[-1][0] == "reply"


def test_a_stream_error_arrives_as_an_error_event(api_world: ApiWorld) -> None:
    with TestClient(api_world.app()) as client:
        answer = client.post(
            "/v1/npcs/nobody/turns",
            json={"player": {"id": "p-err"}, "text": "Hello", "stream": True},
            headers=api_world.auth("a-game"),
        )
    assert answer.status_code == 200  # the stream had started
    (name, data), *_ = sse_events(answer.text)
    assert name == "error" and data["code"] == "not_found" and data["request_id"]


def test_a_gift_event_raises_trust(api_world: ApiWorld) -> None:
    with TestClient(api_world.app()) as client:
        turn(client, api_world, "p-gift")
        before = client.get("/v1/npcs/brannoc/conversations/p-gift", headers=api_world.auth("a-game")).json()
        answer = client.post(
            "/v1/npcs/brannoc/events",
            json={"player": {"id": "p-gift"}, "event": {"type": "gift_received", "magnitude": 2}},
            headers=api_world.auth("a-game"),
        )
    assert answer.status_code == 200, answer.text
    outcome = answer.json()
    assert outcome["applied"] is True and outcome["event"] == "gift_received"
    assert outcome["relationship"]["axes"]["trust"] > before["relationship"]["axes"]["trust"]


def test_the_conversation_shows_messages_emotion_and_pages_back(api_world: ApiWorld) -> None:
    with TestClient(api_world.app()) as client:
        for i in range(3):
            turn(client, api_world, "p-read", f"Hello number {i}")
        first = client.get(
            "/v1/npcs/brannoc/conversations/p-read?limit=4", headers=api_world.auth("a-game")
        ).json()
        older = client.get(
            f"/v1/npcs/brannoc/conversations/p-read?limit=4&before={first['next_before']}",
            headers=api_world.auth("a-game"),
        ).json()
    assert first["turns"] == 3 and len(first["emotion"]["vector"]) == 8
    assert [m["seq"] for m in first["messages"]] == [3, 4, 5, 6]
    assert [m["seq"] for m in older["messages"]] == [1, 2] and older["next_before"] is None
    assert older["messages"][0] == {**older["messages"][0], "role": "player", "text": "Hello number 0"}


def test_a_player_id_with_slashes_and_spaces_round_trips(api_world: ApiWorld) -> None:
    odd = "guild/Ærin the Bold"
    with TestClient(api_world.app()) as client:
        turn(client, api_world, odd)
        view = client.get(
            f"/v1/npcs/brannoc/conversations/{quote(odd, safe='')}", headers=api_world.auth("a-game")
        )
    assert view.status_code == 200 and view.json()["player_id"] == odd


def test_reset_forgets_the_conversation(api_world: ApiWorld) -> None:
    with TestClient(api_world.app()) as client:
        turn(client, api_world, "p-reset")
        gone = client.delete("/v1/npcs/brannoc/conversations/p-reset", headers=api_world.auth("a-game"))
        after = client.get("/v1/npcs/brannoc/conversations/p-reset", headers=api_world.auth("a-game"))
        again = turn(client, api_world, "p-reset")
    assert gone.status_code == 204
    assert after.status_code == 404 and after.json()["code"] == "not_found"
    assert again["turn"] == 1


def test_an_unknown_npc_is_404_naming_the_known_ones(api_world: ApiWorld) -> None:
    with TestClient(api_world.app()) as client:
        answer = client.post(
            "/v1/npcs/nobody/turns",
            json={"player": {"id": "p"}, "text": "Hi"},
            headers=api_world.auth("a-game"),
        )
    assert answer.status_code == 404
    assert answer.json()["code"] == "not_found" and "brannoc" in answer.json()["message"]


def test_a_misspelt_player_field_is_422_naming_it(api_world: ApiWorld) -> None:
    with TestClient(api_world.app()) as client:
        answer = client.post(
            "/v1/npcs/brannoc/turns",
            json={"player": {"id": "p", "age_ratng": 12}, "text": "Hi"},
            headers=api_world.auth("a-game"),
        )
    assert answer.status_code == 422
    assert answer.json()["code"] == "invalid_request" and "age_ratng" in answer.json()["message"]
