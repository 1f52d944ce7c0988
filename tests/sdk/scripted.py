"""A scripted HTTP server for the SDK tests (over ``httpx.MockTransport``) and canned bodies."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import httpx
from npc_engine_sdk import AsyncNpcClient, NpcClient

KEY = "npk_ktest_secret"
BASE = "http://npc.test"

MakeClient = Callable[..., NpcClient]
MakeAsyncClient = Callable[..., AsyncNpcClient]
Answer = httpx.Response | BaseException | Callable[[httpx.Request], httpx.Response]


def answer(
    status: int = 200,
    body: Any = None,
    *,
    headers: dict[str, str] | None = None,
    request_id: str | None = "req-123",
) -> Callable[[httpx.Request], httpx.Response]:
    """A fresh JSON response per request (a response can be read only once)."""

    def make(request: httpx.Request) -> httpx.Response:
        extra = {"x-request-id": request_id} if request_id else {}
        if body is None:
            return httpx.Response(status, headers={**extra, **(headers or {})})
        return httpx.Response(status, json=body, headers={**extra, **(headers or {})})

    return make


def error(status: int, code: str, message: str = "it went wrong", **kwargs: Any) -> Callable[..., Any]:
    return answer(status, {"code": code, "message": message, "request_id": "req-err"}, **kwargs)


def sse(*events: tuple[str, Any], comments: bool = False) -> bytes:
    """An SSE body: ``(event, data)`` pairs, data as JSON."""
    out = ": keep-alive\n\n" if comments else ""
    for name, data in events:
        out += f"event: {name}\ndata: {json.dumps(data)}\n\n"
    return out.encode()


def sse_answer(body: bytes) -> Callable[[httpx.Request], httpx.Response]:
    def make(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, headers={"content-type": "text/event-stream"}, content=body)

    return make


class ScriptedServer:
    """Answers requests from a script (the last item repeats) and records every request."""

    def __init__(self, *script: Answer) -> None:
        self.script = list(script) or [answer(200, {})]
        self.requests: list[httpx.Request] = []

    def handle(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        item = self.script[min(len(self.requests) - 1, len(self.script) - 1)]
        if isinstance(item, BaseException):
            raise item
        return item if isinstance(item, httpx.Response) else item(request)

    @property
    def last(self) -> httpx.Request:
        return self.requests[-1]

    def body(self, index: int = -1) -> Any:
        return json.loads(self.requests[index].content)


class Sleeps(list[float]):
    """The injected sleep: records each wait instead of waiting."""

    def __call__(self, seconds: float) -> None:
        self.append(seconds)

    async def asleep(self, seconds: float) -> None:
        self.append(seconds)


def npc_reply(**fields: Any) -> dict[str, Any]:
    """An NpcReply body as the server sends it."""
    base: dict[str, Any] = {
        "persona_id": "brannoc",
        "player_id": "p1",
        "text": "Aye.",
        "locale": "en",
        "emotion": {"label": "joy", "intensity": 0.4, "vector": {"joy": 0.4}},
        "relationship": {"stage": "stranger", "axes": {"trust": 0.1}, "stage_changed": False},
        "actions": [{"name": "give_item", "args": {"item_id": "horseshoe"}}],
        "citations": ["lore:forge"],
        "usage": {"prompt_tokens": 10, "completion_tokens": 2},
        "timings_ms": {"total": 12.5},
        "fallback": False,
        "fallback_reason": None,
        "blocked": None,
        "model": "scripted",
        "turn": 1,
        "debug": {},
    }
    base.update(fields)
    return base
