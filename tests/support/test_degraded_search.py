"""A support turn whose knowledge search could not rank by meaning escalates, and says why.

BM25 alone is not trusted to answer a customer (the confidence model is fit on vector
similarities), so the question goes to staff; the ticket's reason detail names the outage
instead of claiming that nothing matched.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from structlog.testing import capture_logs

from knowledge.embedders.base import EmbedKind
from knowledge.embedders.hashing import HashEmbedder
from npc_engine.engine import Engine
from npc_engine.errors import EmbedderError, VectorStoreError
from npc_engine.llm.scripted import ScriptedChatModel
from npc_engine.settings import Settings
from tests.turn.conftest import Backends

QUESTION = "Can I change my character's name?"  # the FAQ answers it when search works


class _DownVectorStore:
    """A vector store whose server is gone."""

    async def _refuse(self, *args: Any, **kwargs: Any) -> Any:
        raise VectorStoreError("Chroma query failed: cannot connect (connection refused)")

    upsert = query = delete = fetch_vectors = count = _refuse

    def close(self) -> None:
        pass


class _DownEmbedder(HashEmbedder):
    """The hash embedder, its process gone: every query embedding fails."""

    async def embed(self, texts: Sequence[str], *, kind: EmbedKind = "document") -> np.ndarray:
        raise EmbedderError("the embedder process exited")


def engine_over(turn_backends: Backends, *, vectors: Any = None, embedder: Any = None) -> Engine:
    return Engine(
        settings=Settings(data_dir=turn_backends.root, embedder="hash", vector_store="memory"),
        state=turn_backends.state,
        embedder=embedder or turn_backends.embedder,
        vectors=vectors or turn_backends.vectors,
        chat_model=ScriptedChatModel(['{"text": "Aye.", "emotion": "neutral", "actions": []}']),
    )


async def test_with_the_vector_store_down_the_ticket_says_the_search_degraded(
    turn_backends: Backends, player: str
) -> None:
    engine = engine_over(turn_backends, vectors=_DownVectorStore())
    with capture_logs() as logs:
        reply = await engine.support_turn("aria", player, QUESTION)
    assert reply.escalated and reply.reason == "no_knowledge" and not reply.citations
    assert reply.reason_detail.startswith("knowledge search degraded (vector store unavailable); ")
    assert "keyword match(es), not trusted to answer alone" in reply.reason_detail
    ticket = await engine.desk.get("default", reply.ticket_id or "")
    assert ticket.reason_detail == reply.reason_detail
    assert "vector store unavailable" in ticket.summary and "no FAQ entry" not in ticket.summary
    assert ticket.sources_tried  # the keyword matches, for staff to look at
    degraded = [e for e in logs if e["event"] == "support.search_degraded"]
    assert [(e["why"], e["log_level"]) for e in degraded] == [("vector store unavailable", "warning")]


async def test_with_the_embedder_down_the_ticket_says_so(turn_backends: Backends, player: str) -> None:
    engine = engine_over(turn_backends, embedder=_DownEmbedder())
    reply = await engine.support_turn("aria", player, QUESTION)
    assert reply.escalated and reply.reason == "no_knowledge"
    assert reply.reason_detail.startswith("knowledge search degraded (embedder unavailable); ")


async def test_the_same_question_is_answered_once_search_works(turn_backends: Backends, player: str) -> None:
    reply = await engine_over(turn_backends).support_turn("aria", player, QUESTION)
    assert reply.answered and reply.citations and "degraded" not in reply.reason_detail
