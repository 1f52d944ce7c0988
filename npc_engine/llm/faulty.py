"""A misbehaving OpenAI-compatible server: the ``openai`` backend's failures, on demand (a test fake).

:class:`FaultyOpenAIServer` serves ``POST /v1/chat/completions`` (streamed or not) and
``GET /v1/models`` on a free loopback port, from a thread. It answers from an *upstream*
(a real OpenAI-compatible server, e.g. llama.cpp's, whose answers it forwards) or, with no
upstream, at once with a well-formed reply in the engine's reply format. On a seeded share
of chat calls it misbehaves instead::

    with FaultyOpenAIServer(seed=7) as server:
        engine = Engine(..., chat_model=make_chat_model(server.spec))
        server.faults = {"error": 0.3, "hang": 0.1}  # 40% of calls fail
        server.plan("drop", None)                     # the next two calls: dropped, then answered
        ...
        server.faults = {}                            # healthy again
        assert server.calls[-1].fault is None

=================== ==========================================================================
fault               what the call gets
=================== ==========================================================================
``http_500``        500 with an OpenAI-style error body
``http_503``        503, ``Retry-After: 1``
``http_429``        429, ``Retry-After: 1``
``hang``            nothing for ``hang_s`` (streamed: the first part of the reply, then nothing)
``trickle``         the whole answer, a few bytes (one event) every ``trickle_s``: each read
                    is quick, the whole is slower than a client's timeout
``drop``            part of the answer, then the connection closes
``not_json``        200 with an HTML page (streamed: an event that is not JSON)
``truncated_json``  the first half of the answer (streamed: an event cut in half)
``no_choices``      200 with an error object and no ``choices``
``wrong_shape``     ``choices`` whose parts have the wrong types (message ``null``, content a
                    number ...), the next of :data:`WRONG_SHAPES` each call
``off_schema``      a well-formed completion whose text is not the engine's reply format
=================== ==========================================================================

In :attr:`~FaultyOpenAIServer.faults`, ``error`` and ``garbage`` name groups of these (see
:data:`FAULT_GROUPS`); a call that falls in a group's share gets one member, at random.
``GET /v1/models`` always answers: it is what readiness probes ask. Every chat call is
recorded in :attr:`~FaultyOpenAIServer.calls` with the fault it got (``None``: answered).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import random
import re
import socket
import threading
import time
from collections.abc import AsyncGenerator, Awaitable, Callable, Mapping, MutableMapping, Sequence
from dataclasses import dataclass
from typing import Any

import httpx

from npc_engine.errors import ConfigError

__all__ = [
    "FAULT_GROUPS", "FAULT_KINDS", "REPLY_TEXT", "WRONG_SHAPES", "FaultyCall", "FaultyOpenAIServer", "default_reply",
]  # fmt: skip

FAULT_KINDS = (
    "http_500", "http_503", "http_429", "hang", "trickle", "drop",
    "not_json", "truncated_json", "no_choices", "wrong_shape", "off_schema",
)  # fmt: skip
FAULT_GROUPS: dict[str, tuple[str, ...]] = {
    "error": ("http_500", "http_503", "http_429"),
    "garbage": ("not_json", "truncated_json", "no_choices", "wrong_shape", "off_schema"),
}
REPLY_TEXT = "Aye, the forge is hot today. What brings you to my anvil?"
WRONG_SHAPES: tuple[tuple[object, object], ...] = (  # (completion, stream event)
    ({"choices": [{"index": 0, "message": None, "finish_reason": "stop"}]}, {"choices": [{"delta": None}]}),
    (
        {"choices": [{"index": 0, "message": {"role": "assistant", "content": 42}}]},
        {"choices": [{"index": 0, "delta": {"content": 42}}]},
    ),
    ({"choices": "none left"}, {"choices": "none left"}),
    ({"choices": [{"message": {"role": "assistant", "content": "Aye."}}], "usage": "plenty"}, 17),
)
"""Answers that are JSON with ``choices``, each part of the wrong type; ``wrong_shape`` cycles through them."""

_HTML = "<html><head><title>502 Bad Gateway</title></head><body><h1>502 Bad Gateway</h1></body></html>"
_OFF_SCHEMA = json.dumps({"answer": 42, "confidence": "high"})
_ERROR_BODY = {"error": {"message": "the model is overloaded", "type": "server_error", "code": None}}
_TOKEN = re.compile(r"\S+\s*|\s+")

Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]


def default_reply(body: Mapping[str, Any]) -> str:
    """A well-formed answer to ``body``: the engine's NPC reply when its schema asks for an emotion,
    ``{"text": ...}`` for another schema, else plain text."""
    fmt = body.get("response_format")
    fmt = fmt if isinstance(fmt, dict) else {}
    schema = fmt.get("schema") or (fmt.get("json_schema") or {}).get("schema") or {}
    properties = schema.get("properties") or {} if isinstance(schema, dict) else {}
    if "emotion" in properties:
        return json.dumps({"text": REPLY_TEXT, "emotion": "neutral", "actions": []})
    return json.dumps({"text": REPLY_TEXT}) if properties else REPLY_TEXT


@dataclass(frozen=True, slots=True)
class FaultyCall:
    """One chat-completion call: the fault it got (``None``: answered) and the request body."""

    fault: str | None
    stream: bool
    body: dict[str, Any]


class FaultyOpenAIServer:
    """An OpenAI-compatible server on loopback that misbehaves on a seeded share of calls (see the module doc)."""

    def __init__(
        self,
        upstream: str | None = None,
        *,
        faults: Mapping[str, float] | None = None,
        seed: int = 0,
        model: str = "faulty",
        reply: Callable[[Mapping[str, Any]], str] = default_reply,
        hang_s: float = 30.0,
        trickle_s: float = 0.2,
        cut_events: int = 8,
    ) -> None:
        """``upstream``: base URL (``.../v1``) of a real server to forward to while this one runs, else
        answer at once with ``reply(body)``; ``cut_events``: the stream events a ``drop``, ``hang``
        or ``truncated_json`` lets through first."""
        self.upstream = upstream.rstrip("/") if upstream else None
        self.model = model
        self.reply = reply
        self.hang_s, self.trickle_s, self.cut_events = hang_s, trickle_s, cut_events
        self.calls: list[FaultyCall] = []
        self.port = 0
        self._faults: dict[str, float] = {}
        self.faults = dict(faults or {})
        self._rng = random.Random(seed)
        self._planned: list[str | None] = []
        self._wrong = 0
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self._server: Any = None
        self._client: httpx.AsyncClient | None = None

    # -- control ------------------------------------------------------------------------------
    @property
    def faults(self) -> dict[str, float]:
        """The share of chat calls each fault (or group) gets; ``{}``: every call is answered."""
        return dict(self._faults)

    @faults.setter
    def faults(self, shares: Mapping[str, float]) -> None:
        unknown = [k for k in shares if k not in FAULT_KINDS and k not in FAULT_GROUPS]
        if unknown:
            raise ConfigError(f"unknown fault {unknown[0]!r}; use {', '.join((*FAULT_KINDS, *FAULT_GROUPS))}")
        if any(not 0.0 <= s <= 1.0 for s in shares.values()) or sum(shares.values()) > 1.0 + 1e-9:
            raise ConfigError(f"fault shares are each in [0, 1] and sum to at most 1; got {dict(shares)}")
        self._faults = dict(shares)

    def plan(self, *faults: str | None) -> None:
        """The next calls get these faults, in order (``None``: answered); then the shares apply again."""
        for fault in faults:
            if fault is not None and fault not in FAULT_KINDS:
                raise ConfigError(f"unknown fault {fault!r}; use one of {', '.join(FAULT_KINDS)}")
        self._planned.extend(faults)

    def reset(self, *, seed: int = 0) -> None:
        """Healthy again, with no calls recorded, the default reply and a reseeded choice of faults."""
        self.faults, self.reply = {}, default_reply
        self.calls.clear()
        self._planned.clear()
        self._rng, self._wrong = random.Random(seed), 0

    @property
    def url(self) -> str:
        """The base URL, ``http://127.0.0.1:PORT/v1``."""
        return f"http://127.0.0.1:{self.port}/v1"

    @property
    def spec(self) -> str:
        """The chat model id that reaches this server: ``openai:<url>#<model>``."""
        return f"openai:{self.url}#{self.model}"

    # -- serving ------------------------------------------------------------------------------
    def start(self) -> FaultyOpenAIServer:
        import uvicorn

        if self._thread is not None:
            return self
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.bind(("127.0.0.1", 0))
        self.port = int(sock.getsockname()[1])
        config = uvicorn.Config(
            self.app,
            interface="asgi3",
            lifespan="off",
            http="h11",
            ws="none",
            log_config=None,
            log_level="critical",  # a dropped connection is logged as an app error: it is the point
            access_log=False,
            timeout_graceful_shutdown=2,
        )
        self._server = server = uvicorn.Server(config)
        self._stopping.clear()

        async def main() -> None:
            async with httpx.AsyncClient(timeout=httpx.Timeout(600.0, connect=5.0)) as client:
                self._client = client
                await server.serve(sockets=[sock])

        self._thread = threading.Thread(target=asyncio.run, args=(main(),), name="faulty-openai", daemon=True)
        self._thread.start()
        deadline = time.monotonic() + 20
        while not server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the faulty OpenAI server did not start")
            time.sleep(0.01)
        return self

    def stop(self) -> None:
        if self._thread is None:
            return
        self._stopping.set()  # hanging and trickling calls end now
        self._server.should_exit = True
        self._thread.join(timeout=10)
        self._thread = None

    def __enter__(self) -> FaultyOpenAIServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- the ASGI app ---------------------------------------------------------------------------
    async def app(self, scope: Message, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        method, path = scope["method"], scope["path"].rstrip("/")
        if method == "GET" and path == "/v1/models":
            await self._models(send)
        elif method == "POST" and path == "/v1/chat/completions":
            await self._chat(receive, send)
        else:
            await _send(send, 404, _json({"error": {"message": f"no route {method} {path}"}}))

    async def _models(self, send: Send) -> None:
        if self.upstream and self._client is not None:
            answer = await self._client.get(f"{self.upstream}/models")
            await _send(send, answer.status_code, answer.content)
            return
        listing = {"object": "list", "data": [{"id": self.model, "object": "model", "owned_by": "faulty"}]}
        await _send(send, 200, _json(listing))

    def _pick(self) -> str | None:
        if self._planned:
            return self._planned.pop(0)
        r = self._rng.random()
        for name, share in self._faults.items():
            if r < share:
                group = FAULT_GROUPS.get(name)
                return self._rng.choice(group) if group else name
            r -= share
        return None

    async def _chat(self, receive: Receive, send: Send) -> None:
        raw = b""
        while True:
            message = await receive()
            raw += message.get("body", b"")
            if not message.get("more_body"):
                break
        try:
            body = json.loads(raw)
            assert isinstance(body, dict)
        except (ValueError, AssertionError):
            await _send(send, 400, _json({"error": {"message": "the body is not a JSON object"}}))
            return
        stream = bool(body.get("stream"))
        fault = self._pick()
        self.calls.append(FaultyCall(fault, stream, body))
        if fault in FAULT_GROUPS["error"]:
            status = int(fault.removeprefix("http_"))
            headers = [(b"retry-after", b"1")] if status != 500 else []
            await _send(send, status, _json(_ERROR_BODY), headers)
        elif fault == "hang" and not stream:
            await self._idle(self.hang_s)
            await _send(send, 504, _json({"error": {"message": "gave up"}}))
        elif stream:
            await self._stream(body, fault, send)
        else:
            await self._complete(body, fault, send)

    async def _idle(self, seconds: float) -> bool:
        """Wait ``seconds``; ``False`` when the server stopped meanwhile."""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline and not self._stopping.is_set():
            await asyncio.sleep(0.05)
        return not self._stopping.is_set()

    # -- non-streamed answers ---------------------------------------------------------------------
    async def _complete(self, body: dict[str, Any], fault: str | None, send: Send) -> None:
        if fault in ("not_json", "no_choices", "wrong_shape"):
            await _send(send, 200, self._garbage(fault).encode(), html=fault == "not_json")
            return
        if fault == "off_schema":
            await _send(send, 200, _json(self._completion(body, [_OFF_SCHEMA], "stop")))
            return
        status, payload = await self._answer(body)
        if status != 200 or fault is None:
            await _send(send, status, payload)
        elif fault == "truncated_json":
            await _send(send, 200, payload[: len(payload) // 2])
        else:  # drop, trickle: the length is announced, then half of it comes (or all of it, slowly)
            await send({"type": "http.response.start", "status": 200, "headers": _headers(len(payload))})
            step = max(len(payload) // 2, 1) if fault == "drop" else 8
            for start in range(0, len(payload) if fault == "trickle" else step, step):
                if start and not await self._idle(self.trickle_s):
                    return
                more = start + step < len(payload)
                await send(
                    {"type": "http.response.body", "body": payload[start : start + step], "more_body": more}
                )
            # a drop returns with the body incomplete: the connection closes

    async def _answer(self, body: dict[str, Any]) -> tuple[int, bytes]:
        if self.upstream and self._client is not None:
            answer = await self._client.post(f"{self.upstream}/chat/completions", json=body)
            return answer.status_code, answer.content
        pieces, finish = self._pieces(body)
        return 200, _json(self._completion(body, pieces, finish))

    def _pieces(self, body: Mapping[str, Any]) -> tuple[list[str], str]:
        """The reply in tokens (words, roughly), cut at ``max_tokens``."""
        pieces = _TOKEN.findall(self.reply(body))
        limit = body.get("max_tokens")
        if isinstance(limit, int) and len(pieces) > limit:
            return pieces[: max(limit, 0)], "length"
        return pieces, "stop"

    def _completion(self, body: Mapping[str, Any], pieces: list[str], finish: str) -> dict[str, Any]:
        messages = body.get("messages") or []
        prompt = sum(len(str(m.get("content", "")).split()) for m in messages if isinstance(m, dict))
        n, message = len(pieces), {"role": "assistant", "content": "".join(pieces)}
        return {
            "id": f"chatcmpl-{len(self.calls)}",
            "object": "chat.completion",
            "model": self.model,
            "choices": [{"index": 0, "message": message, "finish_reason": finish}],
            "usage": {"prompt_tokens": prompt, "completion_tokens": n, "total_tokens": prompt + n},
        }

    def _garbage(self, fault: str, *, stream: bool = False) -> str:
        if fault == "not_json":
            return _HTML
        if fault == "no_choices":
            return json.dumps(_ERROR_BODY)
        self._wrong += 1
        return json.dumps(WRONG_SHAPES[(self._wrong - 1) % len(WRONG_SHAPES)][stream])

    # -- streamed answers -------------------------------------------------------------------------
    async def _stream(self, body: dict[str, Any], fault: str | None, send: Send) -> None:
        start = {"type": "http.response.start", "status": 200, "headers": _SSE_HEADERS}
        if fault in ("not_json", "no_choices", "wrong_shape"):
            await send(start)
            await _frame(send, self._garbage(fault, stream=True))
            await _frame(send, "[DONE]", last=True)
            return
        sent = 0
        event: str | tuple[int, bytes] = ""
        async with contextlib.aclosing(self._events(body, off_schema=fault == "off_schema")) as events:
            async for event in events:
                if isinstance(event, tuple):  # the upstream refused: pass its answer on
                    await _send(send, *event)
                    return
                if not sent:
                    await send(start)
                if fault in ("drop", "hang", "truncated_json") and (
                    sent == self.cut_events or event == "[DONE]"
                ):
                    if fault == "truncated_json":
                        await _frame(send, event[: len(event) // 2])
                        await _frame(send, "[DONE]", last=True)
                    elif fault == "hang":
                        await self._idle(self.hang_s)
                    return  # a drop or a hang ends with the stream incomplete: the connection closes
                if fault == "trickle" and sent and not await self._idle(self.trickle_s):
                    return
                await _frame(send, event, last=event == "[DONE]")
                sent += 1
        if event != "[DONE]":  # the upstream ended without it
            if not sent:
                await send(start)
            await send({"type": "http.response.body", "body": b"", "more_body": False})

    async def _events(
        self, body: dict[str, Any], *, off_schema: bool
    ) -> AsyncGenerator[str | tuple[int, bytes]]:
        """The answer's stream events (``data:`` payloads, ``[DONE]`` last), or ``(status, body)``
        when the upstream refused."""
        if self.upstream and self._client is not None and not off_schema:
            async with self._client.stream("POST", f"{self.upstream}/chat/completions", json=body) as answer:
                if answer.status_code != 200:
                    yield answer.status_code, await answer.aread()
                    return
                async for line in answer.aiter_lines():
                    if line.startswith("data:"):
                        yield line[5:].strip()
            return
        pieces, finish = ([_OFF_SCHEMA], "stop") if off_schema else self._pieces(body)
        chunk = {"id": f"chatcmpl-{len(self.calls)}", "object": "chat.completion.chunk", "model": self.model}
        yield json.dumps({**chunk, "choices": [{"index": 0, "delta": {"role": "assistant", "content": ""}}]})
        for piece in pieces:
            yield json.dumps({**chunk, "choices": [{"index": 0, "delta": {"content": piece}}]})
        yield json.dumps({**chunk, "choices": [{"index": 0, "delta": {}, "finish_reason": finish}]})
        yield "[DONE]"


def _headers(length: int, content_type: bytes = b"application/json") -> list[tuple[bytes, bytes]]:
    return [(b"content-type", content_type), (b"content-length", str(length).encode())]


_SSE_HEADERS = [(b"content-type", b"text/event-stream"), (b"cache-control", b"no-cache")]


async def _send(
    send: Send,
    status: int,
    payload: bytes,
    headers: Sequence[tuple[bytes, bytes]] = (),
    *,
    html: bool = False,
) -> None:
    start = [*_headers(len(payload), b"text/html" if html else b"application/json"), *headers]
    await send({"type": "http.response.start", "status": status, "headers": start})
    await send({"type": "http.response.body", "body": payload, "more_body": False})


def _json(data: object) -> bytes:
    return json.dumps(data).encode()


async def _frame(send: Send, data: str, *, last: bool = False) -> None:
    await send({"type": "http.response.body", "body": f"data: {data}\n\n".encode(), "more_body": not last})
