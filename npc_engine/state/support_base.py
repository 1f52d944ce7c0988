"""The state store's support and access seams: tickets with their audit trail, API keys, sessions.

:class:`TicketStore` and :class:`AccessStore` are the parts of
:class:`~npc_engine.state.base.StateStore` that :class:`~npc_engine.support.desk.TicketDesk`
and :mod:`npc_engine.auth` need; ``SqlStateStore`` implements both (``ticket_sql``,
``access_sql``). Every ticket change and its audit event are one transaction; a change
given ``expected_version`` commits only if the ticket is still at that version, else
:class:`~npc_engine.errors.ConflictError`. Resolved tickets are final: changing one raises
:class:`~npc_engine.errors.InvalidInputError` with code ``ticket_resolved``. A support turn's
ticket, the staff replies it delivers and its exchange are one transaction too
(:meth:`TicketStore.commit_support_turn`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Literal, Protocol, TypeVar, runtime_checkable

from npc_engine.state.records import Receipt, SupportOutcome, SupportWrite
from npc_engine.support.tickets import (
    NewTicket,
    StaffReply,
    Ticket,
    TicketAction,
    TicketEvent,
    TicketFilter,
    TicketStatus,
)

__all__ = ["AccessStore", "ApiKey", "Role", "StaffSession", "TicketStore"]

Role = Literal["game", "staff", "admin"]
R = TypeVar("R")


@dataclass(frozen=True, slots=True)
class ApiKey:
    """A stored key: never the secret, only its SHA-256 (hex)."""

    key_id: str
    tenant: str
    role: Role
    name: str
    secret_hash: str
    created_at: float
    revoked_at: float | None = None


@dataclass(frozen=True, slots=True)
class StaffSession:
    """A console login, found by the SHA-256 (hex) of its token."""

    token_hash: str
    key_id: str
    tenant: str
    staff: str
    created_at: float
    expires_at: float


@runtime_checkable
class TicketStore(Protocol):
    async def create_ticket(self, new: NewTicket) -> Ticket:
        """Store an ``open`` ticket with a fresh id and its ``created`` event.

        :class:`ConflictError` if the player already has an unresolved ticket with this persona.
        """
        ...

    async def get_ticket(self, tenant: str, ticket_id: str) -> Ticket | None: ...

    async def list_tickets(self, tenant: str, filt: TicketFilter, *, now: float) -> list[Ticket]:
        """Urgent first, then high, normal, low; oldest first within a priority."""
        ...

    async def count_tickets(self, tenant: str, filt: TicketFilter, *, now: float) -> int: ...

    async def open_ticket_for(self, tenant: str, persona_id: str, player_id: str) -> Ticket | None:
        """The player's unresolved ticket with this persona, if any."""
        ...

    async def update_ticket(
        self,
        tenant: str,
        ticket_id: str,
        *,
        now: float,
        actor: str,
        action: TicketAction,
        detail: dict[str, Any] | None = None,
        expected_version: int | None = None,
        status: TicketStatus | None = None,
        priority: str | None = None,
        category: str | None = None,
        resolution: str | None = None,
    ) -> Ticket:
        """Change fields and append one audit event atomically (``resolved`` also sets who and when)."""
        ...

    async def append_transcript(
        self,
        tenant: str,
        ticket_id: str,
        lines: Sequence[dict[str, Any]],
        *,
        now: float,
        actor: str = "player",
        detail: dict[str, Any] | None = None,
        expected_version: int | None = None,
        priority: str | None = None,
    ) -> Ticket:
        """Append transcript lines (a ``player_wrote`` event); ``waiting_on_player`` becomes ``open``.

        Under the ticket's lock, so concurrent appends need no ``expected_version``: lines the
        transcript already has (same role, text and ``at``) are skipped, and ``priority`` only
        ever raises the ticket's priority.
        """
        ...

    async def add_ticket_event(
        self,
        tenant: str,
        ticket_id: str,
        *,
        now: float,
        actor: str,
        action: TicketAction,
        detail: dict[str, Any] | None = None,
    ) -> TicketEvent:
        """Append an event that changes nothing (``viewed``); the version stays."""
        ...

    async def ticket_events(self, tenant: str, ticket_id: str) -> list[TicketEvent]: ...

    async def add_staff_reply(
        self,
        tenant: str,
        ticket_id: str,
        *,
        staff: str,
        text: str,
        now: float,
        expected_version: int | None = None,
        resolution: str | None = None,
    ) -> StaffReply:
        """Queue ``text`` for the player, add it to the conversation and the transcript, atomically.

        The ticket becomes ``waiting_on_player`` (or, given ``resolution``, ``resolved``).
        """
        ...

    async def pending_replies(
        self,
        tenant: str,
        player_id: str,
        *,
        persona_id: str | None = None,
        mark_delivered: bool,
        now: float,
        receipt: Callable[[Sequence[StaffReply]], Receipt] | None = None,
    ) -> list[StaffReply]:
        """Undelivered replies, oldest first; ``mark_delivered`` hands each one out exactly once.

        ``receipt(replies)`` (the request's idempotent answer) is stored in the same transaction.
        """
        ...

    async def commit_support_turn(self, write: SupportWrite[R]) -> tuple[SupportOutcome, R]:
        """A support turn's ticket, delivered staff replies, exchange and receipt, in one transaction.

        Returns what it did to the tickets and the exchange's answer. :class:`ConflictError`
        (nothing written) when the conversation moved past the exchange's ``expected_version``.
        """
        ...


@runtime_checkable
class AccessStore(Protocol):
    async def tenant_exists(self, tenant: str) -> bool: ...

    async def create_api_key(
        self, *, key_id: str, tenant: str, role: Role, name: str, secret_hash: str, now: float
    ) -> ApiKey: ...

    async def api_key(self, key_id: str) -> ApiKey | None: ...

    async def api_key_by_hash(self, secret_hash: str) -> ApiKey | None: ...

    async def revoke_api_key(self, key_id: str, *, now: float) -> ApiKey:
        """Revoke the key and end its sessions; :class:`NotFoundError` for an unknown id."""
        ...

    async def list_api_keys(self, tenant: str) -> list[ApiKey]: ...

    async def create_session(self, session: StaffSession) -> None: ...

    async def session_by_hash(self, token_hash: str, *, now: float) -> StaffSession | None:
        """The live session with this token hash; ``None`` when unknown or expired."""
        ...

    async def delete_session(self, token_hash: str) -> bool: ...
