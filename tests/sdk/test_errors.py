"""Every error answer becomes a typed error with the server's code, message and request id."""

from __future__ import annotations

import httpx
import npc_engine_sdk as sdk
import pytest

from tests.sdk.scripted import MakeAsyncClient, MakeClient, ScriptedServer, answer, error


@pytest.mark.parametrize(
    ("status", "code", "cls"),
    [
        (400, "invalid_input", sdk.BadRequestError),
        (401, "unauthenticated", sdk.AuthenticationError),
        (403, "forbidden", sdk.PermissionDeniedError),
        (404, "not_found", sdk.NotFoundError),
        (409, "idempotency_key_reused", sdk.ConflictError),
        (413, "request_too_large", sdk.RequestTooLargeError),
        (422, "invalid_request", sdk.UnprocessableEntityError),
        (429, "rate_limited", sdk.RateLimitError),
        (500, "internal_error", sdk.InternalServerError),
        (503, "state_store_error", sdk.ServiceUnavailableError),
        (504, "timeout", sdk.GatewayTimeoutError),
    ],
)
def test_each_status_raises_its_typed_error(
    make_client: MakeClient, status: int, code: str, cls: type[sdk.APIError]
) -> None:
    server = ScriptedServer(error(status, code, "what went wrong"))
    with pytest.raises(cls) as raised:
        make_client(server, max_retries=0).tickets.get("T-1")
    err = raised.value
    assert (err.status_code, err.code, err.message, err.request_id) == (
        status,
        code,
        "what went wrong",
        "req-err",
    )
    assert err.body == {"code": code, "message": "what went wrong", "request_id": "req-err"}


def test_every_typed_error_is_an_api_error_and_an_npc_engine_error(make_client: MakeClient) -> None:
    server = ScriptedServer(error(404, "not_found"))
    with pytest.raises(sdk.APIError) as raised:
        make_client(server).tickets.get("T-1")
    assert isinstance(raised.value, sdk.NpcEngineError)


@pytest.mark.parametrize("status", [503, 504])
def test_gateway_and_unavailable_are_internal_server_errors(make_client: MakeClient, status: int) -> None:
    server = ScriptedServer(error(status, "x"))
    with pytest.raises(sdk.InternalServerError):
        make_client(server, max_retries=0).tickets.get("T-1")


@pytest.mark.parametrize(("status", "code"), [(405, "method_not_allowed"), (415, "unsupported_media_type")])
def test_an_unlisted_status_is_a_plain_api_error(make_client: MakeClient, status: int, code: str) -> None:
    server = ScriptedServer(error(status, code))
    with pytest.raises(sdk.APIError) as raised:
        make_client(server).tickets.get("T-1")
    assert type(raised.value) is sdk.APIError and raised.value.code == code


def test_the_request_id_comes_from_the_header_when_the_body_has_none(make_client: MakeClient) -> None:
    server = ScriptedServer(answer(403, {"code": "forbidden", "message": "no"}, request_id="from-header"))
    with pytest.raises(sdk.PermissionDeniedError) as raised:
        make_client(server).tickets.get("T-1")
    assert raised.value.request_id == "from-header"


def test_the_body_request_id_wins_over_the_header(make_client: MakeClient) -> None:
    body = {"code": "not_found", "message": "no", "request_id": "from-body"}
    server = ScriptedServer(answer(404, body, request_id="from-header"))
    with pytest.raises(sdk.NotFoundError) as raised:
        make_client(server).tickets.get("T-1")
    assert raised.value.request_id == "from-body"


def test_a_non_json_error_body_still_gives_a_typed_error(make_client: MakeClient) -> None:
    server = ScriptedServer(lambda r: httpx.Response(502, text="<html>Bad Gateway</html>"))
    with pytest.raises(sdk.InternalServerError) as raised:
        make_client(server, max_retries=0).tickets.get("T-1")
    assert raised.value.code is None and "Bad Gateway" in raised.value.message


def test_the_error_message_names_status_code_and_request_id(make_client: MakeClient) -> None:
    server = ScriptedServer(error(404, "not_found", "no persona 'zed'"))
    with pytest.raises(sdk.NotFoundError, match=r"404 not_found: no persona 'zed' \(request_id=req-err\)"):
        make_client(server).tickets.get("T-1")


def test_a_rate_limit_error_says_when_to_retry(make_client: MakeClient) -> None:
    server = ScriptedServer(error(429, "rate_limited", headers={"retry-after": "7"}))
    with pytest.raises(sdk.RateLimitError) as raised:
        make_client(server, max_retries=0).tickets.get("T-1")
    assert raised.value.retry_after == 7.0


def test_a_success_that_is_not_json_is_an_api_error(make_client: MakeClient) -> None:
    server = ScriptedServer(lambda r: httpx.Response(200, text="not json"))
    with pytest.raises(sdk.APIError) as raised:
        make_client(server).tickets.get("T-1")
    assert raised.value.code == "invalid_response"


async def test_the_async_client_raises_the_same_typed_errors(make_async_client: MakeAsyncClient) -> None:
    server = ScriptedServer(error(401, "unauthenticated"))
    with pytest.raises(sdk.AuthenticationError) as raised:
        await make_async_client(server).npcs.conversation("brannoc", "p1")
    assert raised.value.request_id == "req-err"
