"""Server-Sent Events for streamed turns.

A streamed turn is ``event: delta`` frames (``{"text", "reset"}``; ``reset`` means discard
what was shown so far: a retry or the fallback replaces it), then exactly one
``event: reply`` with the whole reply, which is authoritative. A failure after the stream
started is one ``event: error`` frame with the usual error body, then the end.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import structlog
from pydantic import BaseModel

from npc_engine.errors import NpcEngineError

__all__ = ["SSE_EVENT_SCHEMA", "SSE_HEADERS", "sse_event", "turn_events"]

log = structlog.get_logger("npc_engine.server")
SSE_HEADERS = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
SSE_EVENT_SCHEMA = {
    "type": "object",
    "description": "One event: `delta` ({text, reset}), then `reply` (the reply) or `error` ({code, message, request_id, status}).",
    "properties": {
        "event": {"type": "string", "enum": ["delta", "reply", "error"]},
        "data": {"type": "string", "contentMediaType": "application/json"},
    },
    "required": ["event", "data"],
}
"""The OpenAPI schema of one streamed event (what schemathesis checks each event against)."""


def sse_event(name: str, data: Any) -> bytes:
    if isinstance(data, BaseModel):
        data = data.model_dump(mode="json")
    return f"event: {name}\ndata: {json.dumps(data, ensure_ascii=False, separators=(',', ':'))}\n\n".encode()


async def turn_events(
    items: AsyncIterator[Any], *, final: type[BaseModel], request_id: str | None, on_final: Any = None
) -> AsyncIterator[tuple[str, Any]]:
    """``(event, data)`` pairs from an engine stream: deltas, then the ``final`` reply, or an error."""
    try:
        async for item in items:
            if isinstance(item, final):
                if on_final is not None:
                    on_final(item)
                yield "reply", item.model_dump(mode="json")
            else:
                yield "delta", item.model_dump(mode="json")
    except NpcEngineError as exc:
        log.warning("stream.error", code=exc.code, error=exc.message)
        from npc_engine.server.errors import status_for

        yield (
            "error",
            {
                "code": exc.code,
                "message": exc.message,
                "request_id": request_id,
                "status": status_for(exc),  # the HTTP status it would have had before the stream started
            },
        )
    except Exception as exc:
        log.error("stream.internal_error", exc_info=exc)
        yield (
            "error",
            {
                "code": "internal_error",
                "message": "the server failed unexpectedly; the request id identifies it in the server's logs",
                "request_id": request_id,
            },
        )
