"""Support tickets: what an escalation creates and what staff work on (records only, no SQL).

Lifecycle::

    open --(staff replies)--> waiting_on_player --(player writes again)--> open
      |                                 |
      +-----------(staff resolves)------+--------> resolved (final; the redacted
                                                    question and resolution join the
                                                    resolved-ticket history)

Every change is an audited :class:`TicketEvent` (who, what, when). A staff reply is also
stored in the support conversation as a ``staff`` message and queued for the player
(:class:`StaffReply`): the game receives it on its next call for that player.

Text fields are stored twice where it matters: ``transcript`` keeps the player's original
words (only staff see it); ``summary``, ``suggested_reply``, ``question_redacted`` and
everything that is embedded, indexed or logged are PII-redacted.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

__all__ = [
    "ACTIONS",
    "STATUSES",
    "NewTicket",
    "StaffReply",
    "Ticket",
    "TicketAction",
    "TicketEvent",
    "TicketFilter",
    "TicketStatus",
]

TicketStatus = Literal["open", "waiting_on_player", "resolved"]
STATUSES: tuple[TicketStatus, ...] = ("open", "waiting_on_player", "resolved")

TicketAction = Literal["created", "replied", "status_changed", "resolved", "player_wrote", "viewed"]
ACTIONS: tuple[TicketAction, ...] = (
    "created",
    "replied",
    "status_changed",
    "resolved",
    "player_wrote",
    "viewed",
)


@dataclass(frozen=True, slots=True)
class NewTicket:
    """What the support turn hands over when it escalates."""

    tenant: str
    persona_id: str
    player_id: str
    locale: str
    category: str  # best category found, or "unknown"
    priority: str  # triggers.Priority value: low | normal | high | urgent
    reason: str  # triggers.EscalationReason value
    reason_detail: str  # e.g. the sensitive topic's name, or "confidence 0.31 < 0.55"
    question_redacted: str  # the player's question, PII-redacted (what may be indexed later)
    summary: str  # PII-redacted
    suggested_reply: str  # PII-redacted; staff edit it before sending
    sources_tried: list[dict[str, Any]]  # [{"id", "kind", "title", "category", "score"}]
    transcript: list[dict[str, Any]]  # [{"role": "player"|"agent"|"staff", "text", "at"}], original text
    created_at: float


@dataclass(frozen=True, slots=True)
class Ticket:
    ticket_id: str  # "T-" + 12 base32 characters, unique per tenant
    tenant: str
    persona_id: str
    player_id: str
    locale: str
    status: TicketStatus
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
    resolution: str = ""  # what staff answered, PII-redacted when stored
    resolved_by: str = ""
    version: int = 1  # compare-and-set counter: every change adds one (views do not)


@dataclass(frozen=True, slots=True)
class TicketEvent:
    """One line of the audit trail."""

    ticket_id: str
    seq: int
    at: float
    actor: str  # a staff member's name, "engine" or "player"
    action: TicketAction
    detail: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class StaffReply:
    """A staff member's answer, waiting to be delivered to the player by the game."""

    reply_id: int
    tenant: str
    persona_id: str
    player_id: str
    ticket_id: str
    staff: str
    text: str
    at: float
    delivered_at: float | None = None


@dataclass(frozen=True, slots=True)
class TicketFilter:
    """The staff queue's filters; ``None`` means any."""

    status: TicketStatus | None = None
    priority: str | None = None
    category: str | None = None
    min_age_s: float | None = None  # created at least this long ago
    max_age_s: float | None = None  # created at most this long ago
    limit: int = 50
    offset: int = 0
