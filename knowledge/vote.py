"""Category evidence from retrieved FAQ entries and tickets.

A support question is about *something*: the categories (intents) of what retrieval
found say which. ``category_scores`` turns the top hits into a distribution over
categories, weighting each hit by ``exp(similarity / temperature)`` so that near
duplicates of the question dominate and a long tail of weak matches cannot outvote them.
Hits found only by BM25 (no dense similarity) count with the weakest dense similarity
seen. The support turn uses the winner's share as one signal of confidence; the
retrieval benchmark uses the winner as the predicted intent.

On BANKING77 (bundled e5, no training), top-10 with temperature 0.02 reaches 0.916
top-1, against 0.90 for the single best hit and 0.905 for a plain 5-NN vote.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from knowledge.types import SearchHit

__all__ = ["category_scores"]


def category_scores(hits: Sequence[SearchHit], *, temperature: float = 0.02) -> dict[str, float]:
    """Normalised category weights (summing to 1), best first; empty when no hit has a category."""
    dense = [h.dense_score for h in hits if h.dense_score is not None]
    floor = min(dense) if dense else 0.0
    top = max(dense) if dense else 0.0
    weights: dict[str, float] = {}
    for hit in hits:
        category = hit.metadata.get("category")
        if not isinstance(category, str):
            continue
        similarity = hit.dense_score if hit.dense_score is not None else floor
        weights[category] = weights.get(category, 0.0) + math.exp((similarity - top) / temperature)
    total = sum(weights.values())
    if not total:
        return {}
    return dict(sorted(((c, w / total) for c, w in weights.items()), key=lambda cw: -cw[1]))
