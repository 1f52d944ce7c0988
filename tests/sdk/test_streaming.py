"""Streamed turns: the SSE decoder, deltas then the reply, error events, and stream retries."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator

import httpx
import pytest
from npc_engine_sdk import (
    APIConnectionError,
    NotFoundError,
    NpcReply,
    ServiceUnavailableError,
    SupportReply,
    TurnDelta,
)
from npc_engine_sdk._sse import ServerSentEvent, iter_sse

from tests.sdk.scripted import (
    MakeAsyncClient,
    MakeClient,
    ScriptedServer,
    error,
    npc_reply,
    sse,
    sse_answer,
)

DELTAS = [("delta", {"text": "Aye, ", "reset": False}), ("delta", {"text": "lad.", "reset": False})]
REPLY = ("reply", npc_reply(text="Aye, lad."))


# -- the decoder -------------------------------------------------------------------------------
def test_the_decoder_reads_named_events_with_their_data() -> None:
    events = list(iter_sse(["event: delta", 'data: {"text": "A"}', "", "event: reply", "data: {}", ""]))
    assert events == [ServerSentEvent("delta", '{"text": "A"}'), ServerSentEvent("reply", "{}")]


def test_multi_line_data_is_joined_with_newlines() -> None:
    assert list(iter_sse(["data: one", "data: two", ""])) == [ServerSentEvent("message", "one\ntwo")]


def test_comments_and_unknown_fields_are_ignored() -> None:
    lines = [": keep-alive", "", "retry: 100", "foo: bar", "event: delta", "data:x", ""]
    assert list(iter_sse(lines)) == [ServerSentEvent("delta", "x")]


def test_only_one_space_after_the_colon_is_dropped_and_crlf_is_stripped() -> None:
    assert list(iter_sse(["data:  two spaces\r", "\r"])) == [ServerSentEvent("message", " two spaces")]


def test_an_event_without_data_is_not_dispatched() -> None:
    assert list(iter_sse(["event: delta", "", "id: 4", ""])) == []


def test_an_event_cut_off_by_the_end_of_the_stream_is_still_delivered() -> None:
    assert list(iter_sse(["event: reply", "data: {}"])) == [ServerSentEvent("reply", "{}")]


# -- streamed turns ----------------------------------------------------------------------------
def test_a_stream_yields_deltas_then_the_reply(make_client: MakeClient) -> None:
    server = ScriptedServer(sse_answer(sse(*DELTAS, REPLY, comments=True)))
    with make_client(server).npcs.stream("brannoc", player="p1", text="Hello") as stream:
        items = list(stream)
    assert items[:2] == [TurnDelta(text="Aye, "), TurnDelta(text="lad.")]
    assert isinstance(items[2], NpcReply) and items[2].text == "Aye, lad."
    assert stream.reply is items[2]


def test_a_stream_request_asks_for_events(make_client: MakeClient) -> None:
    server = ScriptedServer(sse_answer(sse(REPLY)))
    make_client(server).npcs.stream("brannoc", player="p1", text="Hello").get_final_reply()
    assert server.last.headers["accept"] == "text/event-stream"
    assert server.body() == {"player": {"id": "p1", "flags": []}, "text": "Hello", "stream": True}
    assert server.last.headers["idempotency-key"]


def test_get_final_reply_reads_the_rest_of_the_stream(make_client: MakeClient) -> None:
    server = ScriptedServer(sse_answer(sse(*DELTAS, REPLY)))
    reply = make_client(server).npcs.stream("brannoc", player="p1", text="Hello").get_final_reply()
    assert reply.text == "Aye, lad."


def test_a_support_stream_ends_with_a_support_reply(make_client: MakeClient) -> None:
    body = {"persona_id": "aria", "player_id": "p1", "text": "Use a scroll.", "answered": True}
    server = ScriptedServer(sse_answer(sse(("delta", {"text": "Use a scroll."}), ("reply", body))))
    items = list(make_client(server).support.stream("aria", player="p1", text="Rename?"))
    assert isinstance(items[-1], SupportReply) and items[-1].answered
    assert server.last.url.path == "/v1/support/aria/turns"


def test_an_error_event_raises_the_typed_error(make_client: MakeClient) -> None:
    failure = {"code": "chat_model_error", "message": "the model is down", "request_id": "req-7"}
    server = ScriptedServer(sse_answer(sse(DELTAS[0], ("error", failure))))
    stream = make_client(server).npcs.stream("brannoc", player="p1", text="Hello")
    assert next(stream) == TurnDelta(text="Aye, ")
    with pytest.raises(ServiceUnavailableError) as raised:
        next(stream)
    assert raised.value.code == "chat_model_error" and raised.value.request_id == "req-7"
    assert len(server.requests) == 1  # an error event is an answer: not retried


def test_an_error_event_with_a_status_uses_it() -> None:
    from npc_engine_sdk._exceptions import error_from_event

    assert error_from_event({"code": "weird", "message": "x", "status": 404}).status_code == 404
    assert isinstance(error_from_event({"code": "not_found", "message": "x"}), NotFoundError)


def test_a_stream_without_a_reply_raises_a_connection_error(make_client: MakeClient) -> None:
    server = ScriptedServer(sse_answer(sse(*DELTAS)))
    with pytest.raises(APIConnectionError, match="before the reply"):
        list(make_client(server).npcs.stream("brannoc", player="p1", text="Hello"))


def test_unknown_events_are_skipped(make_client: MakeClient) -> None:
    server = ScriptedServer(sse_answer(sse(("progress", {"pct": 50}), REPLY)))
    items = list(make_client(server).npcs.stream("brannoc", player="p1", text="Hello"))
    assert len(items) == 1 and isinstance(items[0], NpcReply)


def test_a_stream_answered_with_plain_json_is_the_reply(make_client: MakeClient) -> None:
    server = ScriptedServer(lambda r: httpx.Response(200, json=npc_reply(text="Replayed.")))
    items = list(make_client(server).npcs.stream("brannoc", player="p1", text="Hello"))
    assert [type(i) for i in items] == [NpcReply] and items[0].text == "Replayed."


def test_a_stream_that_fails_before_any_event_is_retried_with_the_same_key(make_client: MakeClient) -> None:
    server = ScriptedServer(
        error(503, "backend_error"), httpx.ConnectError("refused"), sse_answer(sse(*DELTAS, REPLY))
    )
    reply = make_client(server).npcs.stream("brannoc", player="p1", text="Hello").get_final_reply()
    assert reply.text == "Aye, lad." and len(server.requests) == 3
    assert len({r.headers["idempotency-key"] for r in server.requests}) == 1


def _breaks_after_one_event() -> Iterator[bytes]:
    yield sse(DELTAS[0])
    raise httpx.ReadError("connection reset")


def test_a_stream_that_breaks_after_an_event_is_not_retried(make_client: MakeClient) -> None:
    server = ScriptedServer(
        lambda r: httpx.Response(
            200, headers={"content-type": "text/event-stream"}, content=_breaks_after_one_event()
        )
    )
    stream = make_client(server).npcs.stream("brannoc", player="p1", text="Hello")
    assert next(stream) == TurnDelta(text="Aye, ")
    with pytest.raises(APIConnectionError, match="ReadError"):
        next(stream)
    assert len(server.requests) == 1


def test_a_stream_that_fails_with_a_client_error_raises_it(make_client: MakeClient) -> None:
    server = ScriptedServer(error(404, "not_found", "no persona 'zed'"))
    with pytest.raises(NotFoundError, match="zed"):
        list(make_client(server).npcs.stream("zed", player="p1", text="Hello"))
    assert len(server.requests) == 1


def test_closing_a_stream_early_stops_it(make_client: MakeClient) -> None:
    server = ScriptedServer(sse_answer(sse(*DELTAS, REPLY)))
    stream = make_client(server).npcs.stream("brannoc", player="p1", text="Hello")
    with stream:
        next(stream)
    with pytest.raises(StopIteration):
        next(stream)


async def test_the_async_stream_yields_deltas_then_the_reply(make_async_client: MakeAsyncClient) -> None:
    server = ScriptedServer(sse_answer(sse(*DELTAS, REPLY)))
    async with make_async_client(server).npcs.stream("brannoc", player="p1", text="Hello") as stream:
        items = [item async for item in stream]
    assert [type(i) for i in items] == [TurnDelta, TurnDelta, NpcReply]


async def test_the_async_stream_raises_an_error_event(make_async_client: MakeAsyncClient) -> None:
    failure = {"code": "timeout", "message": "too slow"}
    server = ScriptedServer(sse_answer(sse(("error", failure))))
    with pytest.raises(Exception) as raised:
        await make_async_client(server).npcs.stream("brannoc", player="p1", text="Hello").get_final_reply()
    assert getattr(raised.value, "status_code", None) == 504


async def _async_breaks_after_one_event() -> AsyncIterator[bytes]:
    yield sse(DELTAS[0])
    raise httpx.ReadError("connection reset")


async def test_the_async_stream_is_retried_only_before_the_first_event(
    make_async_client: MakeAsyncClient,
) -> None:
    server = ScriptedServer(
        httpx.ConnectError("refused"),
        lambda r: httpx.Response(
            200, headers={"content-type": "text/event-stream"}, content=_async_breaks_after_one_event()
        ),
    )
    stream = make_async_client(server).npcs.stream("brannoc", player="p1", text="Hello")
    assert await stream.__anext__() == TurnDelta(text="Aye, ")
    with pytest.raises(APIConnectionError):
        await stream.__anext__()
    assert len(server.requests) == 2


def test_delta_data_round_trips_unicode(make_client: MakeClient) -> None:
    body = (
        "event: delta\ndata: " + json.dumps({"text": "¡Hola, 旅人!"}, ensure_ascii=False) + "\n\n"
    ).encode()
    server = ScriptedServer(sse_answer(body + sse(REPLY)))
    items = list(make_client(server).npcs.stream("brannoc", player="p1", text="Hola"))
    assert items[0] == TurnDelta(text="¡Hola, 旅人!")
