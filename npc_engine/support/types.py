"""What a support turn returns (wire models; the HTTP API and the SDK serialise these)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from npc_engine.turn.types import Usage

__all__ = ["Citation", "StaffReplyOut", "SupportReply"]


class Citation(BaseModel):
    """A source the answer rests on: an FAQ entry or a resolved ticket."""

    id: str  # "faq:<id>" or "ticket:<id>"
    kind: str
    title: str
    category: str | None = None
    score: float | None = None  # dense similarity to the question


class StaffReplyOut(BaseModel):
    """A support agent's answer to an escalated ticket, delivered with this call."""

    reply_id: int | None = None  # unique per reply: lets the game drop one it already showed
    ticket_id: str
    staff: str
    text: str
    at: float


class SupportReply(BaseModel):
    persona_id: str
    player_id: str
    text: str
    locale: str
    answered: bool  # the agent answered from its sources
    escalated: bool  # a ticket was opened (or the open one updated) for human staff
    reason: str | None = None  # EscalationReason value when escalated
    reason_detail: str = ""
    ticket_id: str | None = None
    confidence: float = 0.0
    category: str | None = None
    citations: list[Citation] = Field(default_factory=list)
    staff_replies: list[StaffReplyOut] = Field(default_factory=list)
    usage: Usage = Field(default_factory=Usage)
    timings_ms: dict[str, float] = Field(default_factory=dict)
    model: str = ""
    adapted: bool = False  # the model rephrased the sourced answer (and it passed the source check)
    debug: dict[str, Any] = Field(default_factory=dict)
