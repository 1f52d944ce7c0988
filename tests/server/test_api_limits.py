"""Limits and the plumbing every answer shares: rate limits, body and input size, request ids,
metrics, health, and errors that are always JSON ``{code, message, request_id}``."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import httpx
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families

from tests.api_world import GAME_A, ApiWorld

TURN = "/v1/npcs/brannoc/turns"
SANE_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")


def turn_body(text: str = "Hello smith", player: str = "p-limits", **extra: Any) -> dict[str, Any]:
    return {"player": {"id": player}, "text": text, **extra}


def assert_error(answer: httpx.Response, status: int, code: str) -> str:
    """``answer`` is the error body with this status and code; returns its message."""
    assert answer.status_code == status, answer.text
    assert answer.headers["content-type"].startswith("application/json")
    body = answer.json()
    assert set(body) == {"code", "message", "request_id"} and body["code"] == code, body
    assert body["request_id"] == answer.headers["x-request-id"]
    assert "Traceback" not in answer.text
    return str(body["message"])


def samples(client: TestClient, name: str) -> list[dict[str, str]]:
    """The label sets of every sample called ``name`` on /metrics."""
    text = client.get("/metrics").text
    return [
        sample.labels
        for family in text_string_to_metric_families(text)
        for sample in family.samples
        if sample.name == name
    ]


# -- rate limits ---------------------------------------------------------------------------
def test_a_tenant_over_its_rate_is_answered_429_with_retry_after(api_world: ApiWorld) -> None:
    world = api_world.restart(rate_limit_per_s=1, rate_limit_burst=2)
    with TestClient(world.app()) as client:
        for _ in range(2):
            assert client.get("/v1/models", headers=world.auth("a-game")).status_code == 200
        answer = client.get("/v1/models", headers=world.auth("a-game"))
    assert_error(answer, 429, "rate_limited")
    assert re.fullmatch(r"[0-9]+", answer.headers["retry-after"])
    assert int(answer.headers["retry-after"]) >= 1


def test_the_rate_is_per_tenant_not_per_key(api_world: ApiWorld) -> None:
    world = api_world.restart(rate_limit_per_s=1, rate_limit_burst=2)
    with TestClient(world.app()) as client:
        assert client.get("/v1/models", headers=world.auth("a-game")).status_code == 200
        assert client.get("/v1/tickets", headers=world.auth("a-staff")).status_code == 200
        answer = client.get("/v1/personas", headers=world.auth("a-admin"))
    assert_error(answer, 429, "rate_limited")


def test_one_tenant_over_its_rate_does_not_limit_another(api_world: ApiWorld) -> None:
    world = api_world.restart(rate_limit_per_s=1, rate_limit_burst=2)
    with TestClient(world.app()) as client:
        for _ in range(3):
            client.get("/v1/models", headers=world.auth("a-game"))
        assert client.get("/v1/models", headers=world.auth("a-game")).status_code == 429
        others = [client.get("/v1/models", headers=world.auth("b-game")).status_code for _ in range(2)]
    assert others == [200, 200]


# -- body size -----------------------------------------------------------------------------
def test_a_json_body_over_the_limit_is_request_too_large_before_the_route_runs(api_world: ApiWorld) -> None:
    world = api_world.restart(max_request_bytes=2048)
    with TestClient(world.app()) as client:
        answer = client.post(TURN, json=turn_body("x" * 3000), headers=world.auth("a-game"))
    assert "2048" in assert_error(answer, 413, "request_too_large")
    assert world.model.requests == []


def test_a_chunked_json_body_over_the_limit_is_request_too_large(api_world: ApiWorld) -> None:
    world = api_world.restart(max_request_bytes=2048)

    def chunks() -> Iterator[bytes]:
        yield b'{"player": {"id": "p-limits"}, "text": "'
        for _ in range(30):
            yield b"x" * 100
        yield b'"}'

    with TestClient(world.app()) as client:
        answer = client.post(
            TURN, content=chunks(), headers={**world.auth("a-game"), "Content-Type": "application/json"}
        )
    assert "content-length" not in {k.lower() for k in answer.request.headers}
    assert "2048" in assert_error(answer, 413, "request_too_large")
    assert world.model.requests == []


def test_a_json_body_under_the_limit_is_served(api_world: ApiWorld) -> None:
    world = api_world.restart(max_request_bytes=2048)
    with TestClient(world.app()) as client:
        answer = client.post(TURN, json=turn_body("x " * 400), headers=world.auth("a-game"))
    assert answer.status_code == 200, answer.text


# -- the player's text ---------------------------------------------------------------------
def test_an_empty_text_is_invalid_request_naming_the_field(api_world: ApiWorld) -> None:
    with TestClient(api_world.app()) as client:
        answer = client.post(TURN, json=turn_body(""), headers=api_world.auth("a-game"))
    assert "body.text" in assert_error(answer, 422, "invalid_request")


def test_a_whitespace_only_text_is_invalid_input_saying_it_is_empty(api_world: ApiWorld) -> None:
    with TestClient(api_world.app()) as client:
        answer = client.post(TURN, json=turn_body(" \n\t  "), headers=api_world.auth("a-game"))
    assert "empty" in assert_error(answer, 400, "invalid_input")
    assert api_world.model.requests == []


def test_a_text_over_max_input_chars_is_input_too_long_on_every_turn_route(api_world: ApiWorld) -> None:
    text = "y" * 1001
    requests = [
        ("/v1/npcs/brannoc/turns", turn_body(text)),
        ("/v1/support/aria/turns", turn_body(text)),
        (
            "/v1/chat/completions",
            {"model": "npc:brannoc", "user": "p-limits", "messages": [{"role": "user", "content": text}]},
        ),
    ]
    with TestClient(api_world.app()) as client:
        for url, body in requests:
            answer = client.post(url, json=body, headers=api_world.auth("a-game"))
            message = assert_error(answer, 400, "input_too_long")
            assert "1000" in message and "1001" in message, url
    assert api_world.model.requests == []


def test_a_text_of_exactly_max_input_chars_is_served(api_world: ApiWorld) -> None:
    with TestClient(api_world.app()) as client:
        answer = client.post(TURN, json=turn_body("hello " * 166 + "abcd"), headers=api_world.auth("a-game"))
    assert len("hello " * 166 + "abcd") == 1000
    assert answer.status_code == 200, answer.text


def test_an_unknown_body_field_is_invalid_request_naming_it(api_world: ApiWorld) -> None:
    with TestClient(api_world.app()) as client:
        answer = client.post(TURN, json=turn_body(colour="red"), headers=api_world.auth("a-game"))
    assert "body.colour" in assert_error(answer, 422, "invalid_request")


# -- request ids ---------------------------------------------------------------------------
def test_a_sane_request_id_is_echoed_back(api_world: ApiWorld) -> None:
    given = "game-7.req:42_ABC-x"
    with TestClient(api_world.app()) as client:
        answer = client.post(
            TURN, json=turn_body(), headers={**api_world.auth("a-game"), "X-Request-Id": given}
        )
    assert answer.status_code == 200
    assert answer.headers["x-request-id"] == given


def test_a_sane_request_id_is_in_the_error_body(api_world: ApiWorld) -> None:
    given = "req-0001"
    with TestClient(api_world.app()) as client:
        answer = client.post(TURN, json=turn_body(), headers={"X-Request-Id": given})
    assert_error(answer, 401, "unauthenticated")
    assert answer.json()["request_id"] == given == answer.headers["x-request-id"]


def test_an_insane_request_id_is_replaced_by_a_new_one(api_world: ApiWorld) -> None:
    insane = ["has spaces in it", "x" * 300, "semi;colon", 'quote"d', ""]
    with TestClient(api_world.app()) as client:
        for given in insane:
            answer = client.get("/v1/models", headers={**api_world.auth("a-game"), "X-Request-Id": given})
            replaced = answer.headers["x-request-id"]
            assert replaced != given and SANE_ID.match(replaced), given


def test_every_answer_carries_a_request_id(api_world: ApiWorld) -> None:
    game = api_world.auth("a-game")
    with TestClient(api_world.app()) as client:
        answers = {
            "200 turn": client.post(TURN, json=turn_body(), headers=game),
            "200 healthz": client.get("/healthz"),
            "200 metrics": client.get("/metrics"),
            "204 reset": client.delete("/v1/npcs/brannoc/conversations/p-limits", headers=game),
            "400 input": client.post(TURN, json=turn_body("   "), headers=game),
            "401 no key": client.get("/v1/models"),
            "403 role": client.get("/v1/tickets", headers=game),
            "404 persona": client.post("/v1/npcs/nobody/turns", json=turn_body(), headers=game),
            "404 route": client.get("/v1/nowhere"),
            "405 method": client.get(TURN, headers=game),
            "413 body": client.post(TURN, content=b"x" * (300 * 1024), headers=game),
            "422 schema": client.post(TURN, json={"text": "hi"}, headers=game),
        }
    for what, answer in answers.items():
        assert answer.status_code == int(what[:3]), f"{what}: {answer.status_code} {answer.text}"
        ids = answer.headers.get_list("x-request-id")
        assert len(ids) == 1 and SANE_ID.match(ids[0]), f"{what}: {ids}"
        rid = ids[0]
        if answer.status_code >= 400:
            assert answer.json()["request_id"] == rid, what
    assert len({answer.headers["x-request-id"] for answer in answers.values()}) == len(answers)


# -- metrics and health --------------------------------------------------------------------
def test_metrics_count_requests_by_route_template(api_world: ApiWorld) -> None:
    with TestClient(api_world.app()) as client:
        assert client.post(TURN, json=turn_body(), headers=api_world.auth("a-game")).status_code == 200
        requests = samples(client, "npc_http_requests_total")
    assert {"method": "POST", "route": "/v1/npcs/{persona_id}/turns", "status": "200"} in requests


def test_metrics_time_each_stage_of_a_turn(api_world: ApiWorld) -> None:
    with TestClient(api_world.app()) as client:
        assert client.post(TURN, json=turn_body(), headers=api_world.auth("a-game")).status_code == 200
        stages = {labels["stage"] for labels in samples(client, "npc_turn_stage_seconds_count")}
    assert {"retrieve", "prompt", "generate"} <= stages


def test_metrics_count_tokens_by_tenant(api_world: ApiWorld) -> None:
    with TestClient(api_world.app()) as client:
        assert client.post(TURN, json=turn_body(), headers=api_world.auth("a-game")).status_code == 200
        tokens = samples(client, "npc_tokens_total")
    assert {"tenant": GAME_A, "kind": "npc", "type": "prompt"} in tokens
    assert {labels["tenant"] for labels in tokens} == {GAME_A}


def test_metrics_count_error_answers_by_code(api_world: ApiWorld) -> None:
    with TestClient(api_world.app()) as client:
        client.get("/v1/models")
        client.get("/v1/tickets", headers=api_world.auth("a-game"))
        codes = {labels["code"] for labels in samples(client, "npc_errors_total")}
    assert {"unauthenticated", "forbidden"} <= codes


def test_metrics_count_a_chunked_body_refused_for_its_size(api_world: ApiWorld) -> None:
    world = api_world.restart(max_request_bytes=2048)
    with TestClient(world.app()) as client:
        assert client.post(TURN, content=iter([b"x" * 3000]), headers=world.auth("a-game")).status_code == 413
        codes = {labels["code"] for labels in samples(client, "npc_errors_total")}
    assert "request_too_large" in codes


def test_metrics_count_a_body_refused_for_its_content_length(api_world: ApiWorld) -> None:
    world = api_world.restart(max_request_bytes=2048)
    with TestClient(world.app()) as client:
        assert client.post(TURN, content=b"x" * 3000, headers=world.auth("a-game")).status_code == 413
        codes = {labels["code"] for labels in samples(client, "npc_errors_total")}
    assert "request_too_large" in codes


def test_metrics_labels_hold_no_player_id_persona_id_or_text(api_world: ApiWorld) -> None:
    player, said = "player-7c1e9", "whisper the word bramblegate"
    game = api_world.auth("a-game")
    with TestClient(api_world.app()) as client:
        client.post(TURN, json=turn_body(said, player=player), headers=game)
        client.get(f"/v1/npcs/brannoc/conversations/{player}", headers=game)
        client.get(f"/v1/unknown/{player}", headers=game)
        text = client.get("/metrics").text
    assert player not in text and "bramblegate" not in text
    assert "/v1/npcs/brannoc/" not in text


def test_readyz_is_ready_naming_each_check(api_world: ApiWorld) -> None:
    with TestClient(api_world.app()) as client:
        answer = client.get("/readyz")
    assert answer.status_code == 200
    assert answer.json() == {"status": "ready", "checks": {"state_store": "ok", "vector_store": "ok"}}


def test_healthz_is_ok(api_world: ApiWorld) -> None:
    with TestClient(api_world.app()) as client:
        answer = client.get("/healthz")
    assert answer.status_code == 200 and answer.json() == {"status": "ok"}


# -- errors are always JSON ----------------------------------------------------------------
def test_an_unexpected_exception_is_internal_error_without_its_details(api_world: ApiWorld) -> None:
    app = api_world.app()

    async def broken() -> None:
        raise RuntimeError("bug at /srv/npc/secret.py with password=hunter2")

    app.add_api_route("/v1/test-only/broken", broken, methods=["GET"])
    with TestClient(app, raise_server_exceptions=False) as client:
        answer = client.get("/v1/test-only/broken", headers={"X-Request-Id": "req-broken-1"})
    message = assert_error(answer, 500, "internal_error")
    assert answer.json()["request_id"] == "req-broken-1"
    assert "request id" in message
    assert (
        "hunter2" not in answer.text and "RuntimeError" not in answer.text and "secret.py" not in answer.text
    )


def test_an_unknown_route_is_not_found_json(api_world: ApiWorld) -> None:
    with TestClient(api_world.app()) as client:
        for headers in ({}, api_world.auth("a-game")):
            answer = client.get("/v1/nowhere/at-all", headers=headers)
            assert "/v1/nowhere/at-all" in assert_error(answer, 404, "not_found")


def test_a_wrong_method_is_method_not_allowed_json(api_world: ApiWorld) -> None:
    with TestClient(api_world.app()) as client:
        answer = client.put(TURN, json=turn_body(), headers=api_world.auth("a-game"))
    assert "PUT" in assert_error(answer, 405, "method_not_allowed")
    assert answer.headers["allow"] == "POST"
