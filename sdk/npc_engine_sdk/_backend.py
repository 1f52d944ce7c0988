"""The seam between resources and transports: run a :class:`~npc_engine_sdk._request.Call`.

Two implementations each: over HTTP (:mod:`npc_engine_sdk._http`) and in the same process as
an engine (:mod:`npc_engine_sdk._inprocess`). Both answer with the server's JSON, and stream
the server's events.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any, Protocol

from ._request import Call
from ._sse import ServerSentEvent

__all__ = ["AsyncBackend", "SyncBackend"]


class SyncBackend(Protocol):
    def request(self, call: Call) -> Any:
        """The answer's JSON (``None`` for an empty answer), or a typed error."""
        ...

    def stream(self, call: Call) -> Iterator[ServerSentEvent]:
        """The answer's events: ``delta`` ... then ``reply`` (or ``error``)."""
        ...

    def close(self) -> None: ...


class AsyncBackend(Protocol):
    async def request(self, call: Call) -> Any: ...

    def stream(self, call: Call) -> AsyncIterator[ServerSentEvent]: ...

    async def aclose(self) -> None: ...
