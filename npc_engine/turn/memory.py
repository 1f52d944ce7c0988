"""Turn-side memory plumbing: stored rows to ranked memories, new facts to rows, summaries.

The logic (fact extraction, ranking, summarising) lives in :mod:`npc_engine.memory`
as pure functions; this module connects it to the state store's records. Memories are
always read and written under one ``ConversationKey`` (tenant, NPC, player), so an
NPC's memory of one player cannot reach a turn with another player.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

import numpy as np
import structlog

from knowledge.embedders.base import Embedder
from npc_engine.errors import BackendError
from npc_engine.memory import Fact, MemoryItem, extract_facts, rank_memories, summarise
from npc_engine.state.records import ConversationKey, StoredMemory, StoredMessage

__all__ = ["MemoryUpdate", "fold_history", "recall", "remember"]

log = structlog.get_logger("npc_engine.turn")


def _vector(blob: bytes | None) -> np.ndarray | None:
    return np.frombuffer(blob, dtype=np.float32) if blob else None


def recall(
    stored: Sequence[StoredMemory], *, query_vector: np.ndarray | None, now: float, k: int
) -> list[StoredMemory]:
    """The ``k`` best memories for this turn: relevance + recency + importance."""
    if not stored or k <= 0:
        return []
    items = [
        MemoryItem(
            id=m.memory_id,
            text=m.text,
            importance=m.importance,
            created_at=m.created_at,
            last_used_at=m.last_used_at,
            vector=_vector(m.vector) if query_vector is not None else None,
        )
        for m in stored
    ]
    by_id = {m.memory_id: m for m in stored}
    query = query_vector.tolist() if query_vector is not None else None
    return [by_id[item.id] for item, _score in rank_memories(items, query_vector=query, now=now, k=k)]


class MemoryUpdate:
    """What a turn adds to and removes from one conversation's memories."""

    def __init__(self) -> None:
        self.upsert: list[StoredMemory] = []
        self.delete: list[str] = []


async def remember(
    key: ConversationKey,
    text: str,
    *,
    locale: str | None,
    stored: Sequence[StoredMemory],
    embedder: Embedder,
    now: float,
    max_memories: int,
) -> MemoryUpdate:
    """Facts the player stated in ``text``, as new memories; a fact with a known key replaces the old one."""
    update = MemoryUpdate()
    facts: list[Fact] = extract_facts(text, locale=locale)
    if not facts:
        return update
    vectors: list[bytes | None] = [None] * len(facts)
    try:
        embedded = await embedder.embed([f.text for f in facts], kind="query")
        vectors = [np.asarray(v, dtype=np.float32).tobytes() for v in embedded]
    except BackendError as exc:  # a memory without a vector is still recalled by recency and importance
        log.warning("memory.embed_failed", error=str(exc), code=exc.code)
    known_texts = {m.text for m in stored}
    for fact, vector in zip(facts, vectors, strict=True):
        if fact.text in known_texts:
            continue
        if fact.key:
            update.delete += [m.memory_id for m in stored if m.key == fact.key]
        digest = hashlib.sha256(f"{key.persona_id}\x00{key.player_id}\x00{fact.text}".encode()).hexdigest()
        update.upsert.append(
            StoredMemory(
                memory_id=digest[:32],
                text=fact.text,
                kind=fact.kind,
                key=fact.key,
                importance=fact.importance,
                created_at=now,
                last_used_at=now,
                vector=vector,
            )
        )
    overflow = len(stored) - len(update.delete) + len(update.upsert) - max_memories
    if overflow > 0:  # forget the least important, least recently used first
        survivors = sorted(
            (m for m in stored if m.memory_id not in update.delete),
            key=lambda m: (m.importance, m.last_used_at, m.memory_id),
        )
        update.delete += [m.memory_id for m in survivors[:overflow]]
    return update


def fold_history(
    summary: str, history: Sequence[StoredMessage], dropped: int, *, npc_name: str, max_tokens: int = 200
) -> tuple[str, int | None]:
    """Fold the ``dropped`` oldest history messages into the summary: (new summary, last folded seq)."""
    if dropped <= 0 or not history:
        return summary, None
    folded = history[:dropped]
    messages = [(m.role, m.text) for m in folded if m.role in ("player", "npc")]  # not staff notes
    return summarise(summary, messages, npc_name=npc_name, max_tokens=max_tokens), folded[-1].seq
