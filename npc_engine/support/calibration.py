"""Each tenant's confidence model, fit on its own knowledge base, and the support search it expects.

:func:`support_search` is the retrieval the confidence model was calibrated for: the best
``CANDIDATES`` tickets and, on their own, the best ``FAQ_K`` FAQ entries (so FAQ/ticket
agreement can be measured even when tickets crowd the top).

:class:`Calibrations` reads the support partition's vectors back from the vector store
once per catalog revision, computes :class:`CategoryStats` (how tightly each category's
tickets cluster) and fits the :class:`ConfidenceModel` on the tenant's own tickets with
:func:`fit_model` (leave one out, leave one category out: no test questions involved).
A knowledge base too small to fit (fewer than two categories with two tickets each)
uses :data:`DEFAULT_MODEL` without novelty statistics. The fit runs in a worker thread:
about 3 s for 9,000 tickets; a resolved ticket moves the revision and triggers a refit on
the next support turn.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from dataclasses import dataclass

import numpy as np
import structlog

from knowledge.retrieval import KnowledgeBase
from knowledge.types import Retrieval
from npc_engine.errors import BackendError, InvalidInputError
from npc_engine.support.confidence import DEFAULT_MODEL, CategoryStats, ConfidenceModel, fit_model

__all__ = ["CANDIDATES", "FAQ_K", "Calibration", "Calibrations", "support_search"]

log = structlog.get_logger("npc_engine.support")

CANDIDATES = 40  # ticket hits per question, as in the calibration
FAQ_K = 5  # FAQ hits per question, searched on their own
_MAX_VECTORS = 500_000


async def support_search(
    kb: KnowledgeBase,
    text: str,
    vector: np.ndarray | Awaitable[np.ndarray | None] | None,
    *,
    revision: int | None = None,
) -> Retrieval:
    """Tickets and FAQ entries for ``text``, the way the confidence model was fit.

    ``vector``: the query embedding, or an awaitable of it (see ``KnowledgeBase.search``);
    ``revision``: the catalog revision the caller already read. ``degraded`` when either
    search had to do without dense similarity (the hits cannot then be assessed).
    """
    tickets, faqs = await asyncio.gather(
        kb.retrieve(
            text,
            kinds=("ticket",),
            k=2 * CANDIDATES,
            candidates=CANDIDATES,
            query_vector=vector,
            revision=revision,
        ),
        kb.retrieve(
            text, kinds=("faq",), k=2 * FAQ_K, candidates=FAQ_K, query_vector=vector, revision=revision
        ),
    )
    merged = {h.chunk_id: h for h in [*tickets.hits, *faqs.hits]}
    return Retrieval(list(merged.values()), tickets.degraded or faqs.degraded)


@dataclass(frozen=True, slots=True)
class Calibration:
    stats: CategoryStats | None
    model: ConfidenceModel
    fitted: bool  # False: DEFAULT_MODEL (too little data, or the vectors were unavailable)


class Calibrations:
    """Per tenant and catalog revision: the category statistics and the fitted confidence model."""

    def __init__(self) -> None:
        self._cache: dict[str, tuple[int, Calibration]] = {}
        self._lock = asyncio.Lock()

    async def get(self, kb: KnowledgeBase, *, revision: int | None = None) -> Calibration:
        """``revision``: the catalog revision the caller already read (else read here)."""
        if revision is None:
            revision = (await kb.snapshot()).revision
        cached = self._cache.get(kb.tenant)
        if cached is not None and cached[0] == revision:
            return cached[1]
        async with self._lock:
            cached = self._cache.get(kb.tenant)
            if cached is not None and cached[0] == revision:
                return cached[1]
            calibration = await self._fit(kb, revision)
            if calibration is not None:
                self._cache[kb.tenant] = (revision, calibration)
                return calibration
            return Calibration(None, DEFAULT_MODEL, fitted=False)  # not cached: try again next turn

    async def _fit(self, kb: KnowledgeBase, revision: int) -> Calibration | None:
        snap = await kb.snapshot(revision)
        try:
            fetched = await kb.vectors.fetch_vectors(kb.collection_for("ticket", ""), limit=_MAX_VECTORS)
        except BackendError as exc:
            log.warning("support.calibration_unavailable", tenant=kb.tenant, error=str(exc), code=exc.code)
            return None
        if fetched is None:
            log.warning("support.calibration_too_large", tenant=kb.tenant, limit=_MAX_VECTORS)
            return Calibration(None, DEFAULT_MODEL, fitted=False)
        ids, matrix = fetched
        rows: dict[str, list[int]] = {"ticket": [], "faq": []}
        labels: dict[str, list[str]] = {"ticket": [], "faq": []}
        for row, chunk_id in enumerate(ids):
            position = snap.by_id.get(chunk_id)
            if position is None:
                continue
            chunk = snap.chunks[position]
            category = chunk.metadata.get("category")
            if chunk.ordinal == 0 and chunk.kind in rows and isinstance(category, str):
                rows[chunk.kind].append(row)
                labels[chunk.kind].append(category)
        if not rows["ticket"]:
            return Calibration(None, DEFAULT_MODEL, fitted=False)

        def unit(index: list[int]) -> np.ndarray:
            part = np.asarray(matrix[index], dtype=np.float32).reshape(len(index), -1)
            return part / np.linalg.norm(part, axis=1, keepdims=True).clip(min=1e-9)

        tickets = unit(rows["ticket"])
        faqs = unit(rows["faq"]) if rows["faq"] else np.zeros((0, tickets.shape[1]), dtype=np.float32)

        def work() -> Calibration:
            stats = CategoryStats.from_vectors(tickets, labels["ticket"])
            try:
                model = fit_model(tickets, labels["ticket"], faqs, labels["faq"], stats=stats)
            except InvalidInputError:
                return Calibration(stats, DEFAULT_MODEL, fitted=False)
            return Calibration(stats, model, fitted=True)

        calibration = await asyncio.to_thread(work)
        log.info(
            "support.calibrated",
            tenant=kb.tenant,
            tickets=len(rows["ticket"]),
            faq=len(rows["faq"]),
            fitted=calibration.fitted,
            threshold=round(calibration.model.threshold, 4),
        )
        return calibration
