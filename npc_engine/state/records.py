"""Plain records the state store reads and writes for conversations (no SQL types leak out).

A conversation is one NPC's ongoing relationship with one player:
``ConversationKey(tenant, persona_id, player_id)``. A turn reads a
:class:`Conversation` snapshot (with its ``version``) and writes one :class:`TurnWrite`
that commits only if the version is unchanged, so two concurrent turns can never both
build on the same state (see :meth:`StateStore.commit_turn`). A support turn writes one
:class:`SupportWrite`: its ticket, the staff replies it delivers and its exchange together.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Generic, Literal, TypeVar

from npc_engine.support.tickets import NewTicket, StaffReply, Ticket

__all__ = [
    "Conversation",
    "ConversationKey",
    "Receipt",
    "StoredMemory",
    "StoredMessage",
    "SupportOutcome",
    "SupportWrite",
    "TenantVersions",
    "TurnWrite",
]

R = TypeVar("R")


@dataclass(frozen=True, slots=True)
class TenantVersions:
    """What a worker's caches are keyed on: the world definition's digest and the catalog revision."""

    world_digest: str | None
    kb_revision: int


@dataclass(frozen=True, slots=True)
class ConversationKey:
    tenant: str
    persona_id: str
    player_id: str


@dataclass(frozen=True, slots=True)
class StoredMessage:
    seq: int
    role: str  # "player" | "npc"
    text: str
    meta: dict[str, Any]
    at: float


@dataclass(frozen=True, slots=True)
class StoredMemory:
    memory_id: str
    text: str
    kind: str
    key: str | None
    importance: float
    created_at: float
    last_used_at: float
    vector: bytes | None = None  # float32, unit-normalised


@dataclass(frozen=True, slots=True)
class Conversation:
    """A snapshot; ``version == 0`` means no turn has been stored yet."""

    key: ConversationKey
    version: int = 0
    started_at: float | None = None
    updated_at: float | None = None
    affect: dict[str, Any] | None = None
    summary: str = ""
    summarised_upto: int = 0
    turns: int = 0
    last_message_seq: int = 0
    last_event_seq: int = 0
    history: tuple[StoredMessage, ...] = ()  # messages after ``summarised_upto``, oldest first
    memories: tuple[StoredMemory, ...] = ()


@dataclass(frozen=True, slots=True)
class Receipt:
    """The answer to an idempotent request, stored in the same transaction as the turn it reports.

    A worker killed after the commit then leaves nothing to run again: a retry with the same
    ``Idempotency-Key`` finds the answer (see :mod:`npc_engine.server.idempotency`).
    """

    tenant: str
    key: str
    status_code: int
    response: str


@dataclass(frozen=True, slots=True)
class TurnWrite:
    """Everything one turn (or game event) changes, committed in one transaction."""

    key: ConversationKey
    expected_version: int
    started_at: float
    at: float
    affect: dict[str, Any]
    summary: str
    summarised_upto: int
    turns_added: int
    messages: Sequence[tuple[str, str, dict[str, Any]]] = ()  # (role, text, meta), in order
    events: Sequence[tuple[dict[str, Any], dict[str, Any]]] = ()  # (event json, changes json)
    memories_upsert: Sequence[StoredMemory] = ()
    memories_delete: Sequence[str] = ()
    memories_touch: Sequence[str] = field(default_factory=tuple)  # ids used this turn: last_used_at = at
    lease_holder: str | None = None  # release this turn lease in the same transaction
    receipt: Receipt | None = None  # the request's answer, recorded with the turn (idempotency)


@dataclass(frozen=True, slots=True)
class SupportOutcome:
    """What a support turn's transaction did to the player's tickets and staff replies so far."""

    ticket: Ticket | None  # the ticket escalated to, or the one the player's words were added to
    action: Literal["created", "merged", "player_wrote"] | None  # what happened to ``ticket``
    staff_replies: tuple[StaffReply, ...] = ()  # delivered by this turn, oldest first


@dataclass(frozen=True, slots=True)
class SupportWrite(Generic[R]):
    """Everything one support turn changes, committed in one transaction (``commit_support_turn``).

    In order: the player's pending staff replies with this persona are marked delivered;
    ``escalation`` opens a ticket or joins the player's unresolved one (the lines it lacks, the
    priority only raised; a resolved ticket means a new one), or else ``player_line`` is added
    to that unresolved ticket, if any; then ``exchange(outcome)`` returns the conversation's
    :class:`TurnWrite` (its ``receipt`` included) and the answer, and the turn is written
    (compare-and-set: :class:`~npc_engine.errors.ConflictError` and nothing written at all when
    the conversation moved). ``exchange`` runs inside the transaction, in the store's worker
    thread: it must only compute, and may run more than once.
    """

    key: ConversationKey
    now: float
    exchange: Callable[[SupportOutcome], tuple[TurnWrite, R]]
    escalation: NewTicket | None = None  # its tenant, persona and player are ``key``'s
    player_line: dict[str, Any] | None = None  # {"role": "player", "text", "at"}
