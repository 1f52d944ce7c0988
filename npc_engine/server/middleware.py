"""Pure ASGI middleware (no ``BaseHTTPMiddleware``: it would buffer SSE and lose contextvars).

:class:`RequestContext`, outermost of ours, for every HTTP request:

* a request id: the caller's ``X-Request-Id`` when it is sane (1-128 of ``[A-Za-z0-9._:-]``),
  else a new one; kept in ``scope["state"]["request_id"]``, bound to the structlog context
  (every event logged while serving the request carries it) and sent back as
  ``X-Request-Id``;
* the body limit: a ``Content-Length`` over the limit is refused at once, and a chunked body
  is counted as it arrives (``413 request_too_large`` either way, before any route runs);
* metrics: each request's route template, status and duration
  (:class:`~npc_engine.server.metrics.Metrics`).
"""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import Callable
from typing import Any

import structlog
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from npc_engine.errors import RequestTooLargeError
from npc_engine.server.metrics import Metrics

__all__ = ["RequestContext"]

log = structlog.get_logger("npc_engine.server")
_SANE_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")


def _too_large_message(limit: int) -> str:
    return (
        f"the request body is over {limit} bytes; send less "
        "(NPC_MAX_REQUEST_BYTES for JSON, NPC_MAX_UPLOAD_BYTES for world uploads)"
    )


class RequestContext:
    def __init__(
        self,
        app: ASGIApp,
        *,
        metrics: Metrics,
        limit_for: Callable[[str], int],
    ) -> None:
        self.app = app
        self.metrics = metrics
        self.limit_for = limit_for

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        given = headers.get("x-request-id", "")
        request_id = given if _SANE_ID.match(given) else uuid.uuid4().hex
        scope.setdefault("state", {})["request_id"] = request_id
        structlog.contextvars.clear_contextvars()
        structlog.contextvars.bind_contextvars(request_id=request_id)
        started = time.perf_counter()
        status = 500
        path = scope.get("path", "")
        root = scope.get("root_path", "")
        limit = self.limit_for(path[len(root) :] if root and path.startswith(root) else path)

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message.setdefault("headers", [])
                message["headers"] = [
                    *message["headers"],
                    (b"x-request-id", request_id.encode("latin-1")),
                ]
            await send(message)

        try:
            length = int(headers.get("content-length", "0") or 0)
        except ValueError:
            length = 0
        try:
            if length > limit:
                await self._too_large(send_with_id, request_id, limit)
            else:
                await self.app(scope, _counting(receive, limit), send_with_id)
        finally:
            self.metrics.observe_request(scope, status, time.perf_counter() - started)
            structlog.contextvars.clear_contextvars()

    async def _too_large(self, send: Send, request_id: str, limit: int) -> None:
        import json

        err = RequestTooLargeError(_too_large_message(limit))
        self.metrics.error(err.code)
        body = json.dumps({"code": err.code, "message": err.message, "request_id": request_id}).encode()
        await send(
            {
                "type": "http.response.start",
                "status": 413,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode()),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})


def _counting(receive: Receive, limit: int) -> Receive:
    seen = 0

    async def wrapped() -> Message:
        nonlocal seen
        message: dict[str, Any] = dict(await receive())
        if message["type"] == "http.request":
            seen += len(message.get("body", b""))
            if seen > limit:  # an HTTPException: FastAPI passes it through to the 413 handler
                raise HTTPException(413, detail=_too_large_message(limit))
        return message

    return wrapped
