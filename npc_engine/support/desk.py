"""The ticket desk: what staff and the support turn do to tickets (rules here, SQL in the state store).

Every call names its tenant, and a ticket of another tenant is "not found" exactly like an id
that never existed. Status changes follow :data:`TRANSITIONS`; ``resolved`` is final and is
reached only through :meth:`TicketDesk.resolve`, which needs a resolution. A status change
depends on what was read, so it is compare-and-set on the ticket's ``version`` and retried on
a fresh read when another change got in first. Appends (a reply, the player writing, a second
escalation joining the open ticket) and resolving are serialised by the store under the
ticket's lock, which also refuses any change to a resolved ticket. A support turn's ticket
change, the staff replies it delivers and its exchange commit together
(:meth:`TicketDesk.commit_turn`), under the same rules as :meth:`TicketDesk.open`.

Logs carry tenant, ticket id, staff name and counts, never the text.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import replace
from typing import TypeVar

import structlog

from npc_engine.errors import ConflictError, InvalidInputError, NotFoundError
from npc_engine.state.records import Receipt, SupportOutcome, SupportWrite
from npc_engine.state.support_base import TicketStore
from npc_engine.support.pii import PiiRedactor
from npc_engine.support.tickets import (
    STATUSES,
    NewTicket,
    StaffReply,
    Ticket,
    TicketEvent,
    TicketFilter,
    TicketStatus,
)
from npc_engine.support.triggers import Priority

__all__ = ["MAX_TEXT", "TRANSITIONS", "TicketDesk"]

T = TypeVar("T")
R = TypeVar("R")
log = structlog.get_logger("npc_engine.support")

MAX_TEXT = 4000
"""The longest staff reply or resolution, in characters."""
MAX_LIMIT = 1000
_ATTEMPTS = 5
_RANK = {p.value: rank for rank, p in enumerate(Priority)}  # low < normal < high < urgent

TRANSITIONS: dict[TicketStatus, frozenset[TicketStatus]] = {
    "open": frozenset({"waiting_on_player", "resolved"}),
    "waiting_on_player": frozenset({"open", "resolved"}),
    "resolved": frozenset(),
}
"""Which status may follow which. ``resolved`` is reached only by :meth:`TicketDesk.resolve`."""


def _text(value: str, what: str) -> str:
    # control characters (NUL: PostgreSQL refuses it in text) are dropped, line breaks kept
    text = "".join(ch for ch in value if ch in "\n\t" or ch.isprintable()).strip()
    if not text:
        raise InvalidInputError(f"the {what} is empty; write something for the player")
    if len(text) > MAX_TEXT:
        raise InvalidInputError(f"the {what} has {len(text)} characters; keep it to {MAX_TEXT}")
    return text


def _staff(value: str) -> str:
    name = value.strip()
    if not name or len(name) > 200:
        raise InvalidInputError("staff must be a name of 1 to 200 characters")
    return name


def _check_filter(filt: TicketFilter) -> None:
    if filt.status is not None and filt.status not in STATUSES:
        raise InvalidInputError(f"unknown status {filt.status!r}; choose one of: {', '.join(STATUSES)}")
    if filt.priority is not None and filt.priority not in _RANK:
        raise InvalidInputError(f"unknown priority {filt.priority!r}; choose one of: {', '.join(_RANK)}")
    if not 1 <= filt.limit <= MAX_LIMIT or filt.offset < 0:
        raise InvalidInputError(f"limit must be 1 to {MAX_LIMIT} and offset 0 or more")
    if any(age is not None and age < 0 for age in (filt.min_age_s, filt.max_age_s)):
        raise InvalidInputError("ages must be 0 seconds or more")


class TicketDesk:
    """Tickets for staff (queue, reply, status, resolve) and for the support turn (open, replies)."""

    def __init__(
        self,
        state: TicketStore,
        *,
        redactor: PiiRedactor,
        clock: Callable[[], float] = time.time,
        on_resolved: Callable[[Ticket], Awaitable[None]] | None = None,
    ) -> None:
        self.state = state
        self.redactor = redactor
        self.clock = clock
        self.on_resolved = on_resolved

    # -- the support turn ------------------------------------------------------------------
    async def open(self, new: NewTicket) -> Ticket:
        """Open a ticket, or add to the player's unresolved one with this persona.

        Added to an open ticket: the transcript lines it lacks, and the higher priority.
        Summary, suggested reply and question are redacted again (redaction is idempotent).
        """
        clean = self._escalation(new)
        for _ in range(_ATTEMPTS):
            existing = await self.state.open_ticket_for(new.tenant, new.persona_id, new.player_id)
            try:
                if existing is None:
                    ticket = await self.state.create_ticket(clean)
                    log.info(
                        "ticket.created", tenant=new.tenant, ticket_id=ticket.ticket_id, priority=new.priority
                    )
                    return ticket
                return await self._merge(existing, clean)
            except ConflictError:  # created or changed by a concurrent escalation: look again
                continue
            except InvalidInputError as exc:  # resolved meanwhile: open a new one
                if exc.code != "ticket_resolved":
                    raise
        raise ConflictError(f"the tickets of player {new.player_id!r} kept changing; try again")

    async def _merge(self, existing: Ticket, new: NewTicket) -> Ticket:
        # the store dedupes lines and only raises the priority under the ticket's lock, so
        # concurrent escalations of one player all land without compare-and-set retries
        ticket = await self.state.append_transcript(
            existing.tenant,
            existing.ticket_id,
            new.transcript,
            now=self.clock(),
            actor="engine",
            detail={"escalation": new.reason},
            priority=new.priority,
        )
        log.info("ticket.merged", tenant=ticket.tenant, ticket_id=ticket.ticket_id, priority=ticket.priority)
        return ticket

    async def commit_turn(self, write: SupportWrite[R]) -> tuple[SupportOutcome, R]:
        """Commit a support turn in one transaction (:class:`~npc_engine.state.records.SupportWrite`).

        Its escalation follows :meth:`open`'s rules (priority checked, texts redacted, a
        resolved ticket means a new one), its ``player_line`` :meth:`player_wrote`'s; the staff
        replies it delivers, its exchange and its receipt commit with it, or nothing does.
        """
        if write.escalation is not None:
            write = replace(write, escalation=self._escalation(write.escalation))
        outcome, answer = await self.state.commit_support_turn(write)
        if outcome.ticket is not None:
            ticket = outcome.ticket
            log.info(
                f"ticket.{outcome.action}",
                tenant=ticket.tenant,
                ticket_id=ticket.ticket_id,
                priority=ticket.priority,
            )
        return outcome, answer

    async def player_wrote(
        self, tenant: str, persona_id: str, player_id: str, text: str, *, at: float | None = None
    ) -> Ticket | None:
        """Add what the player wrote to their unresolved ticket (it becomes ``open``); ``None`` if none."""
        ticket = await self.state.open_ticket_for(tenant, persona_id, player_id)
        if ticket is None:
            return None
        now = self.clock()
        line = {"role": "player", "text": text, "at": now if at is None else at}
        try:
            ticket = await self.state.append_transcript(tenant, ticket.ticket_id, [line], now=now)
        except InvalidInputError as exc:
            if exc.code == "ticket_resolved":
                return None
            raise
        log.info("ticket.player_wrote", tenant=tenant, ticket_id=ticket.ticket_id)
        return ticket

    async def pending_replies(
        self,
        tenant: str,
        player_id: str,
        *,
        persona_id: str | None = None,
        mark_delivered: bool = True,
        receipt: Callable[[Sequence[StaffReply]], Receipt] | None = None,
    ) -> list[StaffReply]:
        """Staff replies the game has not received yet, oldest first; each is handed out once.

        ``receipt(replies)`` (the request's idempotent answer) commits with the delivery.
        """
        return await self.state.pending_replies(
            tenant,
            player_id,
            persona_id=persona_id,
            mark_delivered=mark_delivered,
            now=self.clock(),
            receipt=receipt,
        )

    # -- staff -------------------------------------------------------------------------------
    async def list(self, tenant: str, filt: TicketFilter | None = None) -> list[Ticket]:
        """The queue: urgent first, then oldest first."""
        filt = filt or TicketFilter()
        _check_filter(filt)
        return await self.state.list_tickets(tenant, filt, now=self.clock())

    async def count(self, tenant: str, filt: TicketFilter | None = None) -> int:
        filt = filt or TicketFilter()
        _check_filter(filt)
        return await self.state.count_tickets(tenant, filt, now=self.clock())

    async def get(self, tenant: str, ticket_id: str, *, viewer: str | None = None) -> Ticket:
        """The ticket; with ``viewer``, a ``viewed`` event is added to its audit trail."""
        ticket = await self._require(tenant, ticket_id)
        if viewer is not None:
            await self.state.add_ticket_event(
                tenant, ticket_id, now=self.clock(), actor=_staff(viewer), action="viewed"
            )
        return ticket

    async def events(self, tenant: str, ticket_id: str) -> Sequence[TicketEvent]:
        """The audit trail, oldest first."""
        await self._require(tenant, ticket_id)
        return await self.state.ticket_events(tenant, ticket_id)

    async def reply(self, tenant: str, ticket_id: str, *, staff: str, text: str) -> StaffReply:
        """Send ``text`` to the player: queued for the game, added to the conversation and transcript."""
        staff, text = _staff(staff), _text(text, "reply")
        self._not_resolved(await self._require(tenant, ticket_id))
        reply = await self.state.add_staff_reply(tenant, ticket_id, staff=staff, text=text, now=self.clock())
        log.info("ticket.replied", tenant=tenant, ticket_id=ticket_id, staff=staff, reply_id=reply.reply_id)
        return reply

    async def set_status(self, tenant: str, ticket_id: str, *, staff: str, status: TicketStatus) -> Ticket:
        """Move an unresolved ticket between ``open`` and ``waiting_on_player`` (same status: no change)."""
        staff = _staff(staff)
        if status not in STATUSES:
            raise InvalidInputError(f"unknown status {status!r}; choose one of: {', '.join(STATUSES)}")
        if status == "resolved":
            raise InvalidInputError(
                "a ticket is resolved with a resolution: use resolve", code="invalid_transition"
            )

        async def attempt(ticket: Ticket) -> Ticket:
            if ticket.status == status:
                return ticket
            if status not in TRANSITIONS[ticket.status]:
                raise InvalidInputError(
                    f"ticket {ticket_id} is {ticket.status}; it cannot become {status}",
                    code="invalid_transition",
                )
            return await self.state.update_ticket(
                tenant,
                ticket_id,
                now=self.clock(),
                actor=staff,
                action="status_changed",
                detail={"from": ticket.status, "to": status},
                expected_version=ticket.version,
                status=status,
            )

        ticket = await self._compare_and_set(tenant, ticket_id, attempt)
        log.info("ticket.status_changed", tenant=tenant, ticket_id=ticket_id, staff=staff, status=status)
        return ticket

    async def resolve(
        self, tenant: str, ticket_id: str, *, staff: str, resolution: str, reply_to_player: bool = True
    ) -> Ticket:
        """Resolve with ``resolution`` (stored redacted); optionally send it, as written, to the player.

        Then awaits ``on_resolved(ticket)``; a failing hook is logged and the ticket stays resolved.
        """
        staff, text = _staff(staff), _text(resolution, "resolution")
        self._not_resolved(await self._require(tenant, ticket_id))
        redacted, now = self._redact(text), self.clock()
        if reply_to_player:
            await self.state.add_staff_reply(
                tenant, ticket_id, staff=staff, text=text, now=now, resolution=redacted
            )
            ticket = await self._require(tenant, ticket_id)
        else:
            ticket = await self.state.update_ticket(
                tenant,
                ticket_id,
                now=now,
                actor=staff,
                action="resolved",
                detail={"reply_to_player": False},
                status="resolved",
                resolution=redacted,
            )
        log.info("ticket.resolved", tenant=tenant, ticket_id=ticket_id, staff=staff, replied=reply_to_player)
        if self.on_resolved is not None:
            try:
                await self.on_resolved(ticket)
            except Exception as exc:  # the resolution stands; the hook can be re-run from the history
                log.error(
                    "ticket.on_resolved_failed", tenant=tenant, ticket_id=ticket_id, error=type(exc).__name__
                )
        return ticket

    # -- helpers -----------------------------------------------------------------------------
    def _redact(self, text: str) -> str:
        return self.redactor.redact(text).text if text else text

    def _escalation(self, new: NewTicket) -> NewTicket:
        """``new`` as it is stored: a known priority; summary, suggested reply and question redacted."""
        if new.priority not in _RANK:
            raise InvalidInputError(f"unknown priority {new.priority!r}; choose one of: {', '.join(_RANK)}")
        return replace(
            new,
            summary=self._redact(new.summary),
            suggested_reply=self._redact(new.suggested_reply),
            question_redacted=self._redact(new.question_redacted),
        )

    async def _require(self, tenant: str, ticket_id: str) -> Ticket:
        ticket = await self.state.get_ticket(tenant, ticket_id)
        if ticket is None:
            raise NotFoundError(f"no ticket {ticket_id!r} here; check the id in the queue")
        return ticket

    @staticmethod
    def _not_resolved(ticket: Ticket) -> None:
        if ticket.status == "resolved":
            raise InvalidInputError(
                f"ticket {ticket.ticket_id} was resolved by {ticket.resolved_by or 'staff'}; "
                "it cannot change any more (the player can open a new one)",
                code="ticket_resolved",
            )

    async def _compare_and_set(
        self, tenant: str, ticket_id: str, attempt: Callable[[Ticket], Awaitable[T]]
    ) -> T:
        for _ in range(_ATTEMPTS):
            try:
                return await attempt(await self._require(tenant, ticket_id))
            except ConflictError:
                continue
        raise ConflictError(f"ticket {ticket_id} kept changing; reload it and try again")
