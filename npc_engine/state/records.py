"""Plain records the state store reads and writes for conversations (no SQL types leak out).

A conversation is one NPC's ongoing relationship with one player:
``ConversationKey(tenant, persona_id, player_id)``. A turn reads a
:class:`Conversation` snapshot (with its ``version``) and writes one :class:`TurnWrite`
that commits only if the version is unchanged, so two concurrent turns can never both
build on the same state (see :meth:`StateStore.commit_turn`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "Conversation",
    "ConversationKey",
    "Receipt",
    "StoredMemory",
    "StoredMessage",
    "TenantVersions",
    "TurnWrite",
]


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
