"""``client.tickets``: the staff queue (needs a ``staff`` or ``admin`` key)."""

from __future__ import annotations

import builtins
from typing import Any

from .._request import Call, segment
from ..types import StaffReply, Ticket, TicketEvent, TicketPage
from ._common import AsyncResource, SyncResource

__all__ = ["AsyncTickets", "Tickets"]


def _list_call(
    status: str | None, priority: str | None, category: str | None, limit: int, offset: int
) -> Call:
    params = {"status": status, "priority": priority, "category": category, "limit": limit, "offset": offset}
    return Call(op="tickets.list", method="GET", path="/v1/tickets", args=params, params=params)


def _path(ticket_id: str, tail: str = "") -> str:
    return f"/v1/tickets/{segment(ticket_id)}{tail}"


def _get_call(ticket_id: str) -> Call:
    return Call(op="tickets.get", method="GET", path=_path(ticket_id), args={"ticket_id": ticket_id})


def _events_call(ticket_id: str) -> Call:
    return Call(
        op="tickets.events", method="GET", path=_path(ticket_id, "/events"), args={"ticket_id": ticket_id}
    )


def _post(op: str, ticket_id: str, tail: str, body: dict[str, Any], staff: str | None) -> Call:
    if staff is not None:
        body["staff"] = staff
    return Call(
        op=op,
        method="POST",
        path=_path(ticket_id, tail),
        args={"ticket_id": ticket_id, **body, "staff": staff},
        json=body,
    )


def _reply_call(ticket_id: str, text: str, staff: str | None) -> Call:
    return _post("tickets.reply", ticket_id, "/replies", {"text": text}, staff)


def _status_call(ticket_id: str, status: str, staff: str | None) -> Call:
    return _post("tickets.set_status", ticket_id, "/status", {"status": status}, staff)


def _resolve_call(ticket_id: str, resolution: str, reply_to_player: bool, staff: str | None) -> Call:
    body = {"resolution": resolution, "reply_to_player": reply_to_player}
    return _post("tickets.resolve", ticket_id, "/resolve", body, staff)


def _events(data: Any) -> builtins.list[TicketEvent]:
    return [TicketEvent.model_validate(e) for e in (data or {}).get("events", [])]


class Tickets(SyncResource):
    def list(
        self,
        *,
        status: str | None = None,
        priority: str | None = None,
        category: str | None = None,
        limit: int = 50,
        offset: int = 0,
    ) -> TicketPage:
        """A page of the queue (urgent first, then oldest first) and the total that match."""
        call = _list_call(status, priority, category, limit, offset)
        return TicketPage.model_validate(self._backend.request(call))

    def get(self, ticket_id: str) -> Ticket:
        return Ticket.model_validate(self._backend.request(_get_call(ticket_id)))

    def events(self, ticket_id: str) -> builtins.list[TicketEvent]:
        """The ticket's audit trail, oldest first."""
        return _events(self._backend.request(_events_call(ticket_id)))

    def reply(self, ticket_id: str, *, text: str, staff: str | None = None) -> StaffReply:
        """Send ``text`` to the player (``staff`` defaults to the key's name)."""
        return StaffReply.model_validate(self._backend.request(_reply_call(ticket_id, text, staff)))

    def set_status(self, ticket_id: str, *, status: str, staff: str | None = None) -> Ticket:
        """Move an unresolved ticket between ``open`` and ``waiting_on_player``."""
        return Ticket.model_validate(self._backend.request(_status_call(ticket_id, status, staff)))

    def resolve(
        self, ticket_id: str, *, resolution: str, reply_to_player: bool = True, staff: str | None = None
    ) -> Ticket:
        """Resolve with ``resolution`` (sent to the player too, unless ``reply_to_player=False``)."""
        call = _resolve_call(ticket_id, resolution, reply_to_player, staff)
        return Ticket.model_validate(self._backend.request(call))


class AsyncTickets(AsyncResource):
    async def list(
        self,
        *,
        status: str | None = None,
        priority: str | None = None,
        category: str | None = None,
        limit: int = 50,
        offset: int = 0,
    ) -> TicketPage:
        """A page of the queue (urgent first, then oldest first) and the total that match."""
        call = _list_call(status, priority, category, limit, offset)
        return TicketPage.model_validate(await self._backend.request(call))

    async def get(self, ticket_id: str) -> Ticket:
        return Ticket.model_validate(await self._backend.request(_get_call(ticket_id)))

    async def events(self, ticket_id: str) -> builtins.list[TicketEvent]:
        """The ticket's audit trail, oldest first."""
        return _events(await self._backend.request(_events_call(ticket_id)))

    async def reply(self, ticket_id: str, *, text: str, staff: str | None = None) -> StaffReply:
        """Send ``text`` to the player (``staff`` defaults to the key's name)."""
        return StaffReply.model_validate(await self._backend.request(_reply_call(ticket_id, text, staff)))

    async def set_status(self, ticket_id: str, *, status: str, staff: str | None = None) -> Ticket:
        """Move an unresolved ticket between ``open`` and ``waiting_on_player``."""
        return Ticket.model_validate(await self._backend.request(_status_call(ticket_id, status, staff)))

    async def resolve(
        self, ticket_id: str, *, resolution: str, reply_to_player: bool = True, staff: str | None = None
    ) -> Ticket:
        """Resolve with ``resolution`` (sent to the player too, unless ``reply_to_player=False``)."""
        call = _resolve_call(ticket_id, resolution, reply_to_player, staff)
        return Ticket.model_validate(await self._backend.request(call))
