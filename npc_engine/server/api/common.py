"""What the ``/v1`` route modules share: request bodies, the idempotency header, timeouts."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import Annotated, TypeVar

from fastapi import Header, Request
from pydantic import BaseModel, ConfigDict, Field

from npc_engine.errors import RequestTimeoutError
from npc_engine.server.idempotency import Idempotency
from npc_engine.server.metrics import Metrics
from npc_engine.turn.types import Player

__all__ = [
    "IdempotencyKey",
    "TurnIn",
    "idempotency",
    "metrics",
    "timed",
    "wants_stream",
]

T = TypeVar("T")

IdempotencyKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        description="Send the same key on every retry of one request (a UUID): the first answer comes back "
        "instead of running the turn twice. See docs/http-api.md.",
        max_length=255,
    ),
]


class TurnIn(BaseModel):
    """A player's message to an NPC or a support agent."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "player": {"id": "p-1842", "locale": "en", "region": "DE", "age_rating": 16, "flags": []},
                    "text": "Hello there! Any news from the mines?",
                }
            ]
        },
    )

    player: Player
    text: Annotated[str, Field(min_length=1, max_length=100_000, description="What the player typed.")]
    locale: Annotated[
        str | None,
        Field(max_length=35, description="Reply in this language (BCP 47); default: the message's."),
    ] = None
    stream: bool = Field(default=False, description="Answer with Server-Sent Events (delta ..., reply).")
    debug: bool = Field(default=False, description="Include the reply's debug section (prompt parts, drops).")


def wants_stream(request: Request, body: TurnIn) -> bool:
    return body.stream or "text/event-stream" in request.headers.get("accept", "")


def idempotency(request: Request) -> Idempotency:
    store: Idempotency = request.app.state.idempotency
    return store


def metrics(request: Request) -> Metrics:
    found: Metrics = request.app.state.metrics
    return found


async def timed(request: Request, work: Awaitable[T]) -> T:
    """``work`` within the server's whole-request limit (504 ``timeout`` past it)."""
    limit: float = request.app.state.engine.settings.request_timeout_s
    try:
        async with asyncio.timeout(limit):
            return await work
    except TimeoutError:
        raise RequestTimeoutError(
            f"the request ran over {limit:g} s (NPC_REQUEST_TIMEOUT_S); retry, or raise the limit"
        ) from None
