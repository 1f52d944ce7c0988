"""Ticket routes (role ``staff``): the queue, one ticket, its audit trail, reply, status, resolve.

The same desk as the staff console (:mod:`npc_engine.server.console`), for support tools that
integrate over HTTP. ``staff`` in a body names who acts (the audit trail shows it); it
defaults to the key's name. Another tenant's ticket is 404, exactly like an unknown id.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query
from pydantic import BaseModel, ConfigDict, Field

from npc_engine.auth import Principal
from npc_engine.server.deps import DeskDep, StaffDep
from npc_engine.server.errors import ERROR_RESPONSES
from npc_engine.support.desk import MAX_TEXT
from npc_engine.support.tickets import StaffReply, Ticket, TicketEvent, TicketFilter

__all__ = ["router"]

router = APIRouter(prefix="/tickets", tags=["tickets"], responses=ERROR_RESPONSES)

TicketId = Annotated[str, Path(min_length=1, max_length=32, description="The ticket's id (`T-...`).")]
StaffName = Annotated[
    str | None, Field(min_length=1, max_length=200, description="Who acts; default: the key's name.")
]
Priority = Literal["low", "normal", "high", "urgent"]


class TicketOut(BaseModel):
    ticket_id: str
    persona_id: str
    player_id: str
    locale: str
    status: str
    category: str
    priority: str
    reason: str
    reason_detail: str
    question_redacted: str
    summary: str
    suggested_reply: str
    sources_tried: list[dict[str, Any]]
    transcript: list[dict[str, Any]]
    created_at: float
    updated_at: float
    resolved_at: float | None = None
    resolution: str = ""
    resolved_by: str = ""
    version: int


class TicketPage(BaseModel):
    tickets: list[TicketOut]
    total: int


class TicketEventOut(BaseModel):
    ticket_id: str
    seq: int
    at: float
    actor: str
    action: str
    detail: dict[str, Any] = Field(default_factory=dict)


class TicketEvents(BaseModel):
    events: list[TicketEventOut]


class StaffReplyOut(BaseModel):
    reply_id: int
    ticket_id: str
    persona_id: str
    player_id: str
    staff: str
    text: str
    at: float
    delivered_at: float | None = None


class ReplyIn(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"text": "We refunded it."}]})

    text: Annotated[str, Field(min_length=1, max_length=MAX_TEXT)]
    staff: StaffName = None


class StatusIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    status: Literal["open", "waiting_on_player"]
    staff: StaffName = None


class ResolveIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    resolution: Annotated[str, Field(min_length=1, max_length=MAX_TEXT)]
    reply_to_player: bool = Field(default=True, description="Also send the resolution to the player.")
    staff: StaffName = None


def _ticket(ticket: Ticket) -> TicketOut:
    data = asdict(ticket)
    data.pop("tenant", None)
    return TicketOut.model_validate(data)


def _event(event: TicketEvent) -> TicketEventOut:
    return TicketEventOut.model_validate(asdict(event))


def _reply(reply: StaffReply) -> StaffReplyOut:
    data = asdict(reply)
    data.pop("tenant", None)
    return StaffReplyOut.model_validate(data)


def _who(principal: Principal, staff: str | None) -> str:
    return staff or principal.name


@router.get("", operation_id="list_tickets", response_model=TicketPage, summary="The ticket queue")
async def list_tickets(
    desk: DeskDep,
    principal: StaffDep,
    status: Annotated[Literal["open", "waiting_on_player", "resolved"] | None, Query()] = None,
    priority: Annotated[Priority | None, Query()] = None,
    category: Annotated[str | None, Query(max_length=120)] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 50,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> TicketPage:
    """Urgent first, then oldest first; ``total`` counts every match."""
    filt = TicketFilter(status=status, priority=priority, category=category, limit=limit, offset=offset)
    tickets = await desk.list(principal.tenant, filt)
    return TicketPage(tickets=[_ticket(t) for t in tickets], total=await desk.count(principal.tenant, filt))


@router.get("/{ticket_id}", operation_id="get_ticket", response_model=TicketOut, summary="One ticket")
async def get_ticket(ticket_id: TicketId, desk: DeskDep, principal: StaffDep) -> TicketOut:
    """The ticket with its summary, transcript and sources; the view is added to the audit trail."""
    return _ticket(await desk.get(principal.tenant, ticket_id, viewer=principal.name))


@router.get(
    "/{ticket_id}/events",
    operation_id="list_ticket_events",
    response_model=TicketEvents,
    summary="Audit trail",
)
async def list_ticket_events(ticket_id: TicketId, desk: DeskDep, principal: StaffDep) -> TicketEvents:
    """Who did what to the ticket, oldest first."""
    return TicketEvents(events=[_event(e) for e in await desk.events(principal.tenant, ticket_id)])


@router.post(
    "/{ticket_id}/replies",
    operation_id="reply_to_ticket",
    response_model=StaffReplyOut,
    status_code=201,
    summary="Answer the player",
)
async def reply_to_ticket(
    ticket_id: TicketId, body: ReplyIn, desk: DeskDep, principal: StaffDep
) -> StaffReplyOut:
    """Queued for the game (delivered once, on its next call for the player) and added to the transcript."""
    reply = await desk.reply(principal.tenant, ticket_id, staff=_who(principal, body.staff), text=body.text)
    return _reply(reply)


@router.post(
    "/{ticket_id}/status", operation_id="set_ticket_status", response_model=TicketOut, summary="Change status"
)
async def set_ticket_status(
    ticket_id: TicketId, body: StatusIn, desk: DeskDep, principal: StaffDep
) -> TicketOut:
    """Move an unresolved ticket between ``open`` and ``waiting_on_player``."""
    ticket = await desk.set_status(
        principal.tenant, ticket_id, staff=_who(principal, body.staff), status=body.status
    )
    return _ticket(ticket)


@router.post(
    "/{ticket_id}/resolve", operation_id="resolve_ticket", response_model=TicketOut, summary="Resolve"
)
async def resolve_ticket(
    ticket_id: TicketId, body: ResolveIn, desk: DeskDep, principal: StaffDep
) -> TicketOut:
    """Resolve with a resolution; it joins the resolved-ticket history the agent answers from."""
    ticket = await desk.resolve(
        principal.tenant,
        ticket_id,
        staff=_who(principal, body.staff),
        resolution=body.resolution,
        reply_to_player=body.reply_to_player,
    )
    return _ticket(ticket)
