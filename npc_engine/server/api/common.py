"""What the ``/v1`` route modules share: request bodies, the idempotency header, timeouts."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Annotated, Any, TypeVar

from fastapi import Header, Request
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field

from npc_engine.errors import RequestTimeoutError
from npc_engine.server.errors import request_id_of
from npc_engine.server.idempotency import Idempotency, Receipts
from npc_engine.server.metrics import Metrics
from npc_engine.server.sse import turn_events
from npc_engine.state.records import Receipt
from npc_engine.turn.types import Player

__all__ = [
    "IdempotencyKey",
    "TurnIn",
    "answer_turn",
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


TurnReply = TypeVar("TurnReply", bound=BaseModel)


def _public(reply: TurnReply, debug: bool) -> TurnReply:
    """What a turn route sends: the reply, with its ``debug`` section only when asked for."""
    return reply if debug else reply.model_copy(update={"debug": {}})


async def answer_turn(
    request: Request,
    body: TurnIn,
    *,
    tenant: str,
    idempotency_key: str | None,
    kind: str,
    final: type[TurnReply],
    run: Callable[..., Awaitable[TurnReply]],
    stream: Callable[..., AsyncIterator[Any]],
) -> Response:
    """A turn route's answer: JSON or SSE, idempotent, timed, counted in the metrics.

    ``run`` and ``stream`` are the engine's turn and its streaming twin with the persona bound
    (``functools.partial(engine.npc_turn, persona_id)``); both take a ``receipt`` so the answer
    is committed with the turn (:mod:`npc_engine.server.idempotency`).
    """
    observe = metrics(request)

    def record(reply: Any) -> None:
        observe.observe_turn(kind, tenant, reply)

    def receipt_of(receipts: Receipts | None) -> Callable[[TurnReply], Receipt] | None:
        if receipts is None:
            return None
        return lambda reply: receipts(_public(reply, body.debug))

    args = (body.player, body.text)
    if wants_stream(request, body):

        async def events(receipts: Receipts | None) -> AsyncIterator[tuple[str, Any]]:
            items = stream(*args, locale=body.locale, tenant=tenant, receipt=receipt_of(receipts))
            async for name, data in turn_events(
                items, final=final, request_id=request_id_of(request), on_final=record
            ):
                if name == "reply" and not body.debug:
                    data = {**data, "debug": {}}
                yield name, data

        return await idempotency(request).stream(request, tenant, idempotency_key, body, events)

    async def produce(receipts: Receipts | None) -> TurnReply:
        reply = await timed(
            request, run(*args, locale=body.locale, tenant=tenant, receipt=receipt_of(receipts))
        )
        record(reply)
        return _public(reply, body.debug)

    return await idempotency(request).json(request, tenant, idempotency_key, body, produce)
