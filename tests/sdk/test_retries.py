"""Retries: bounded, jittered, honouring Retry-After, one idempotency key per call."""

from __future__ import annotations

import email.utils
import random

import httpx
import pytest
from npc_engine_sdk import (
    APIConnectionError,
    APITimeoutError,
    ConflictError,
    InternalServerError,
    NotFoundError,
    RateLimitError,
    ServiceUnavailableError,
)
from npc_engine_sdk._retry import (
    BASE_DELAY_S,
    MAX_DELAY_S,
    MAX_RETRY_AFTER_S,
    parse_retry_after,
    retry_delay,
)

from tests.sdk.scripted import MakeAsyncClient, MakeClient, ScriptedServer, Sleeps, answer, error, npc_reply


def turn(client_maker: MakeClient, server: ScriptedServer, **options: object) -> object:
    return client_maker(server, **options).npcs.turn("brannoc", player="p1", text="Hello")


def test_a_503_is_retried_until_it_succeeds(make_client: MakeClient) -> None:
    server = ScriptedServer(
        error(503, "backend_error"), error(503, "backend_error"), answer(200, npc_reply())
    )
    reply = make_client(server).npcs.turn("brannoc", player="p1", text="Hello")
    assert reply.text == "Aye."
    assert len(server.requests) == 3


def test_every_attempt_of_a_turn_sends_the_same_idempotency_key(make_client: MakeClient) -> None:
    server = ScriptedServer(error(500, "internal_error"), error(502, "bad_gateway"), answer(200, npc_reply()))
    make_client(server).npcs.turn("brannoc", player="p1", text="Hello")
    keys = {r.headers["idempotency-key"] for r in server.requests}
    assert len(server.requests) == 3 and len(keys) == 1


def test_two_calls_send_two_different_idempotency_keys(make_client: MakeClient) -> None:
    server = ScriptedServer(answer(200, npc_reply()))
    client = make_client(server)
    client.npcs.turn("brannoc", player="p1", text="Hello")
    client.npcs.turn("brannoc", player="p1", text="Hello")
    assert server.requests[0].headers["idempotency-key"] != server.requests[1].headers["idempotency-key"]


def test_the_callers_idempotency_key_is_sent_on_every_attempt(make_client: MakeClient) -> None:
    server = ScriptedServer(error(503, "backend_error"), answer(200, npc_reply()))
    make_client(server).npcs.turn("brannoc", player="p1", text="Hello", idempotency_key="turn-0042")
    assert [r.headers["idempotency-key"] for r in server.requests] == ["turn-0042", "turn-0042"]


@pytest.mark.parametrize("call", ["event", "claim"])
def test_events_and_claims_send_an_idempotency_key(make_client: MakeClient, call: str) -> None:
    server = ScriptedServer(answer(200, {"replies": []}))
    client = make_client(server)
    if call == "event":
        server.script = [answer(200, {"persona_id": "brannoc", "player_id": "p1", "event": "gift_received"})]
        client.npcs.event("brannoc", player="p1", event="gift_received")
    else:
        client.support.claim_replies("p1")
    assert server.last.headers.get("idempotency-key")


def test_a_read_sends_no_idempotency_key(make_client: MakeClient) -> None:
    server = ScriptedServer(answer(200, {"tickets": [], "total": 0}))
    make_client(server).tickets.list()
    assert "idempotency-key" not in server.last.headers


@pytest.mark.parametrize("key", ["clé", "two words", "", "k" * 256])
def test_a_malformed_idempotency_key_is_refused_before_sending(make_client: MakeClient, key: str) -> None:
    server = ScriptedServer(answer(200, npc_reply()))
    client = make_client(server)
    with pytest.raises(ValueError, match="printable ASCII"):
        client.npcs.turn("brannoc", player="p1", text="Hi", idempotency_key=key)
    with pytest.raises(ValueError, match="printable ASCII"):
        client.npcs.stream("brannoc", player="p1", text="Hi", idempotency_key=key)
    assert server.requests == []


def test_retry_after_in_seconds_is_how_long_the_client_waits(make_client: MakeClient, sleeps: Sleeps) -> None:
    server = ScriptedServer(
        error(429, "rate_limited", headers={"retry-after": "3"}), answer(200, npc_reply())
    )
    turn(make_client, server)
    assert sleeps == [3.0]


def test_retry_after_as_an_http_date_is_honoured(make_client: MakeClient, sleeps: Sleeps) -> None:
    import time

    when = email.utils.formatdate(time.time() + 30, usegmt=True)
    server = ScriptedServer(
        error(503, "backend_error", headers={"retry-after": when}), answer(200, npc_reply())
    )
    turn(make_client, server)
    assert len(sleeps) == 1 and 25 <= sleeps[0] <= 30


def test_a_long_retry_after_is_capped(make_client: MakeClient, sleeps: Sleeps) -> None:
    server = ScriptedServer(
        error(429, "rate_limited", headers={"retry-after": "3600"}), answer(200, npc_reply())
    )
    turn(make_client, server)
    assert sleeps == [MAX_RETRY_AFTER_S]


def test_without_retry_after_the_waits_are_jittered_and_bounded(
    make_client: MakeClient, sleeps: Sleeps
) -> None:
    server = ScriptedServer(error(503, "backend_error"))
    with pytest.raises(ServiceUnavailableError):
        turn(make_client, server, max_retries=5)
    assert len(sleeps) == 5
    assert all(0 <= s <= min(MAX_DELAY_S, BASE_DELAY_S * 2**i) for i, s in enumerate(sleeps))


def test_backoff_grows_exponentially_up_to_the_cap() -> None:
    top = [retry_delay(n, rand=lambda: 1.0) for n in range(7)]
    assert top == [0.5, 1.0, 2.0, 4.0, 8.0, 8.0, 8.0]


def test_backoff_has_full_jitter() -> None:
    rng = random.Random(7)
    delays = [retry_delay(3, rand=rng.random) for _ in range(200)]
    assert min(delays) < 0.5 and max(delays) > 3.5 and all(0 <= d <= 4.0 for d in delays)


@pytest.mark.parametrize(
    ("value", "expected"),
    [("2", 2.0), ("0.5", 0.5), ("-3", 0.0), ("soon", None), ("", None), (None, None)],
)
def test_retry_after_values_parse(value: str | None, expected: float | None) -> None:
    assert parse_retry_after(value) == expected


def test_retry_after_http_date_parses_relative_to_now() -> None:
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:10 GMT", now=1445412480.0) == 10.0


@pytest.mark.parametrize(
    ("status", "code"),
    [
        (400, "invalid_input"),
        (401, "unauthenticated"),
        (403, "forbidden"),
        (404, "not_found"),
        (413, "request_too_large"),
        (422, "invalid_request"),
    ],
)
def test_client_errors_are_not_retried(make_client: MakeClient, status: int, code: str) -> None:
    server = ScriptedServer(error(status, code), answer(200, npc_reply()))
    with pytest.raises(Exception) as raised:
        turn(make_client, server)
    assert getattr(raised.value, "status_code", None) == status
    assert len(server.requests) == 1


def test_a_reused_idempotency_key_is_not_retried(make_client: MakeClient) -> None:
    server = ScriptedServer(error(409, "idempotency_key_reused"), answer(200, npc_reply()))
    with pytest.raises(ConflictError) as raised:
        turn(make_client, server)
    assert raised.value.code == "idempotency_key_reused"
    assert len(server.requests) == 1


@pytest.mark.parametrize("code", ["idempotency_in_progress", "conflict"])
def test_other_conflicts_are_retried(make_client: MakeClient, code: str) -> None:
    server = ScriptedServer(error(409, code), answer(200, npc_reply()))
    assert turn(make_client, server) is not None
    assert len(server.requests) == 2


@pytest.mark.parametrize("status", [408, 429, 500, 502, 503, 504])
def test_each_retryable_status_is_retried(make_client: MakeClient, status: int) -> None:
    server = ScriptedServer(error(status, "whatever"), answer(200, npc_reply()))
    turn(make_client, server)
    assert len(server.requests) == 2


def test_the_client_gives_up_after_max_retries_with_the_typed_error(make_client: MakeClient) -> None:
    server = ScriptedServer(error(429, "rate_limited", headers={"retry-after": "1"}))
    with pytest.raises(RateLimitError) as raised:
        turn(make_client, server, max_retries=3)
    assert len(server.requests) == 4
    assert raised.value.request_id == "req-err" and raised.value.retry_after == 1.0


def test_max_retries_zero_tries_once(make_client: MakeClient) -> None:
    server = ScriptedServer(error(503, "backend_error"))
    with pytest.raises(ServiceUnavailableError):
        turn(make_client, server, max_retries=0)
    assert len(server.requests) == 1


def test_a_connection_error_is_retried_then_raised_as_api_connection_error(make_client: MakeClient) -> None:
    server = ScriptedServer(httpx.ConnectError("refused"))
    with pytest.raises(APIConnectionError, match="ConnectError"):
        turn(make_client, server)
    assert len(server.requests) == 3


def test_a_timeout_is_retried_then_raised_as_api_timeout_error(make_client: MakeClient) -> None:
    server = ScriptedServer(httpx.ReadTimeout("slow"), httpx.ReadTimeout("slow"), answer(200, npc_reply()))
    assert turn(make_client, server) is not None
    server = ScriptedServer(httpx.ReadTimeout("slow"))
    with pytest.raises(APITimeoutError):
        turn(make_client, server)


def test_a_staff_reply_is_not_retried_when_the_server_may_have_acted(make_client: MakeClient) -> None:
    server = ScriptedServer(error(500, "internal_error"))
    with pytest.raises(InternalServerError):
        make_client(server).tickets.reply("T-1", text="Refunded.")
    assert len(server.requests) == 1
    server = ScriptedServer(httpx.ReadTimeout("slow"))
    with pytest.raises(APITimeoutError):
        make_client(server).tickets.reply("T-1", text="Refunded.")
    assert len(server.requests) == 1


def test_a_staff_reply_is_retried_when_the_server_surely_did_not_act(make_client: MakeClient) -> None:
    reply = {"ticket_id": "T-1", "staff": "Alice", "text": "Refunded.", "at": 1.0}
    server = ScriptedServer(httpx.ConnectError("refused"), error(503, "backend_error"), answer(201, reply))
    assert make_client(server).tickets.reply("T-1", text="Refunded.").staff == "Alice"
    assert len(server.requests) == 3


def test_reads_are_retried_on_any_retryable_failure(make_client: MakeClient) -> None:
    ticket = {"ticket_id": "T-1"}
    server = ScriptedServer(error(500, "internal_error"), httpx.ReadError("reset"), answer(200, ticket))
    assert make_client(server).tickets.get("T-1").ticket_id == "T-1"
    assert len(server.requests) == 3


def test_the_final_error_keeps_the_request_id_from_the_header(make_client: MakeClient) -> None:
    server = ScriptedServer(answer(404, {"code": "not_found", "message": "no such NPC"}, request_id="hdr-9"))
    with pytest.raises(NotFoundError) as raised:
        turn(make_client, server)
    assert raised.value.request_id == "hdr-9"


async def test_the_async_client_retries_with_one_key_and_the_injected_sleep(
    make_async_client: MakeAsyncClient, sleeps: Sleeps
) -> None:
    server = ScriptedServer(
        error(429, "rate_limited", headers={"retry-after": "2"}),
        httpx.ConnectError("refused"),
        answer(200, npc_reply()),
    )
    reply = await make_async_client(server).npcs.turn("brannoc", player="p1", text="Hello")
    assert reply.text == "Aye." and len(server.requests) == 3
    assert len({r.headers["idempotency-key"] for r in server.requests}) == 1
    assert sleeps[0] == 2.0 and len(sleeps) == 2


async def test_the_async_client_gives_up_after_max_retries(make_async_client: MakeAsyncClient) -> None:
    server = ScriptedServer(error(504, "timeout"))
    with pytest.raises(InternalServerError) as raised:
        await make_async_client(server, max_retries=1).npcs.turn("brannoc", player="p1", text="Hello")
    assert raised.value.status_code == 504 and len(server.requests) == 2
