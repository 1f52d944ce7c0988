"""A small Server-Sent Events decoder (the parts of the format npc-engine uses, done right).

Lines are fed one at a time (without their line ending). ``event:`` names the event,
``data:`` lines are joined with newlines, a blank line ends the event, lines starting with
``:`` are comments (keep-alives), and one space after the colon is dropped. An event without
data is not dispatched, as the format requires.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterable, AsyncIterator, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

__all__ = ["SSEDecoder", "ServerSentEvent", "aiter_sse", "iter_sse"]


@dataclass(frozen=True, slots=True)
class ServerSentEvent:
    event: str = "message"
    data: str = ""
    id: str | None = None

    def json(self) -> Any:
        return json.loads(self.data)


class SSEDecoder:
    """Feed lines with :meth:`decode`; it returns an event when a blank line completes one."""

    def __init__(self) -> None:
        self._event = ""
        self._data: list[str] = []
        self._id: str | None = None

    def decode(self, line: str) -> ServerSentEvent | None:
        line = line.rstrip("\r\n")
        if not line:
            return self._dispatch()
        if line.startswith(":"):
            return None
        name, _, value = line.partition(":")
        value = value.removeprefix(" ")
        if name == "event":
            self._event = value
        elif name == "data":
            self._data.append(value)
        elif name == "id" and "\0" not in value:
            self._id = value
        return None  # "retry" and unknown fields are ignored

    def flush(self) -> ServerSentEvent | None:
        """The event left when the stream ends without a final blank line, if it has data."""
        return self._dispatch()

    def _dispatch(self) -> ServerSentEvent | None:
        event = (
            ServerSentEvent(self._event or "message", "\n".join(self._data), self._id) if self._data else None
        )
        self._event, self._data = "", []
        return event


def iter_sse(lines: Iterable[str]) -> Iterator[ServerSentEvent]:
    decoder = SSEDecoder()
    for line in lines:
        event = decoder.decode(line)
        if event is not None:
            yield event
    tail = decoder.flush()
    if tail is not None:
        yield tail


async def aiter_sse(lines: AsyncIterable[str]) -> AsyncIterator[ServerSentEvent]:
    decoder = SSEDecoder()
    async for line in lines:
        event = decoder.decode(line)
        if event is not None:
            yield event
    tail = decoder.flush()
    if tail is not None:
        yield tail
