"""A streamed turn as the caller sees it: ``TurnDelta`` pieces, then the final reply.

::

    with client.npcs.stream("brannoc", player="p1", text="Hello") as stream:
        for item in stream:
            if isinstance(item, TurnDelta):
                ...  # show item.text (clear what was shown first when item.reset)
            else:
                reply = item  # the NpcReply, with the authoritative text

An ``error`` event raises the typed error (:mod:`npc_engine_sdk._exceptions`); leaving the
``with`` block (or calling ``close()``) early closes the connection.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator
from types import TracebackType
from typing import Any, Generic, TypeVar

from pydantic import BaseModel

from ._exceptions import APIConnectionError, APIError, error_from_event
from ._sse import ServerSentEvent
from .types import TurnDelta

__all__ = ["AsyncTurnStream", "TurnStream"]

R = TypeVar("R", bound=BaseModel)


def _data(event: ServerSentEvent) -> Any:
    try:
        return json.loads(event.data)
    except ValueError as exc:
        raise APIError(
            f"a streamed {event.event!r} event does not hold JSON", status_code=200, code="invalid_response"
        ) from exc


def _parse(event: ServerSentEvent, reply_type: type[R]) -> TurnDelta | R | None:
    if event.event == "delta":
        return TurnDelta.model_validate(_data(event))
    if event.event == "reply":
        return reply_type.model_validate(_data(event))
    if event.event == "error":
        raise error_from_event(_data(event))
    return None  # an event this SDK does not know yet


def _ended() -> APIConnectionError:
    return APIConnectionError("the stream ended before the reply arrived")


class TurnStream(Generic[R]):
    """Iterate for ``TurnDelta`` pieces then the final reply; a context manager that closes it."""

    def __init__(self, events: Iterator[ServerSentEvent], reply_type: type[R]) -> None:
        self._events = events
        self._reply_type = reply_type
        self.reply: R | None = None  # the final reply, once it arrived
        self._closed = False

    def __iter__(self) -> Iterator[TurnDelta | R]:
        return self

    def __next__(self) -> TurnDelta | R:
        if self._closed:
            raise StopIteration
        try:
            for event in self._events:
                item = _parse(event, self._reply_type)
                if isinstance(item, self._reply_type):
                    self.reply = item
                    self.close()
                if item is not None:
                    return item
        except BaseException:
            self.close()
            raise
        raise _ended()

    def get_final_reply(self) -> R:
        """Read the rest of the stream and return the final reply."""
        for _ in self:
            pass
        if self.reply is None:  # closed before the reply arrived
            raise _ended()
        return self.reply

    def close(self) -> None:
        """Stop reading (and close the connection); iteration ends."""
        self._closed = True
        close = getattr(self._events, "close", None)
        if close is not None:
            close()

    def __enter__(self) -> TurnStream[R]:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


class AsyncTurnStream(Generic[R]):
    """:class:`TurnStream` for ``async for`` and ``async with``."""

    def __init__(self, events: AsyncIterator[ServerSentEvent], reply_type: type[R]) -> None:
        self._events = events
        self._reply_type = reply_type
        self.reply: R | None = None
        self._closed = False

    def __aiter__(self) -> AsyncIterator[TurnDelta | R]:
        return self

    async def __anext__(self) -> TurnDelta | R:
        if self._closed:
            raise StopAsyncIteration
        try:
            async for event in self._events:
                item = _parse(event, self._reply_type)
                if isinstance(item, self._reply_type):
                    self.reply = item
                    await self.close()
                if item is not None:
                    return item
        except BaseException:
            await self.close()
            raise
        raise _ended()

    async def get_final_reply(self) -> R:
        async for _ in self:
            pass
        if self.reply is None:  # closed before the reply arrived
            raise _ended()
        return self.reply

    async def close(self) -> None:
        """Stop reading (and close the connection); iteration ends."""
        self._closed = True
        aclose = getattr(self._events, "aclose", None)
        if aclose is not None:
            await aclose()

    async def __aenter__(self) -> AsyncTurnStream[R]:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.close()
