"""Which memories of this player go into the turn: relevance, recency and importance.

As in Generative Agents (Park et al., 2023), each candidate gets three components in 0..1
and a weighted sum::

    score = w_rel * relevance + w_rec * recency + w_imp * importance

- relevance: ``(cosine(query, item) + 1) / 2``, then min-max rescaled across the
  candidates that have a vector, so the best match gets 1 and the worst 0. It is 0.5 (no
  information) for every item when there is no query vector, when no item has a vector,
  or when all cosines are equal, and for an item whose vector is missing.
- recency: ``0.5 ** ((now - last_used_at) / recency_half_life_s)``; a timestamp in the
  future (or ``+inf``) counts as now (1.0), ``-inf`` or NaN as never (0.0).
- importance: as stored, clamped to 0..1 (NaN counts as 0).

Vectors are normalised again here (a zero or non-finite vector reads as cosine 0), so
slightly off-unit embeddings do no harm. Items scoring below ``min_score`` are dropped;
the rest are sorted best first, ties broken by ``id`` and then input order, and the first
``k`` returned. Nothing reads a clock: ``now`` is passed in, so ranking replays exactly.
The caller passes only one (NPC, player) pair's memories; nothing here mixes players.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from npc_engine.errors import InvalidInputError

__all__ = ["MemoryItem", "rank_memories"]

_Vector = Sequence[float] | np.ndarray  # a list of floats or a 1-D numpy array


@dataclass(frozen=True, slots=True)
class MemoryItem:
    """A stored memory of one player, as the ranking sees it."""

    id: str
    text: str
    importance: float  # 0..1
    created_at: float  # game/server time, seconds
    last_used_at: float  # when it last entered a prompt (or was created)
    vector: _Vector | None = None  # unit-normalised embedding (list or 1-D array), may be missing


def _unit(vector: _Vector) -> np.ndarray:
    array = np.nan_to_num(np.asarray(vector, dtype=np.float64), nan=0.0, posinf=0.0, neginf=0.0)
    norm = float(np.linalg.norm(array))
    return array / norm if norm > 0.0 else array


def _relevance(items: Sequence[MemoryItem], query_vector: _Vector | None) -> list[float]:
    neutral = [0.5] * len(items)
    if query_vector is None:
        return neutral
    query = _unit(query_vector)
    if query.ndim != 1 or not query.any():
        return neutral
    with_vector = [(i, item.vector) for i, item in enumerate(items) if item.vector is not None]
    if not with_vector:
        return neutral
    rows = []
    for i, vector in with_vector:
        row = _unit(vector)
        if row.shape != query.shape:
            raise InvalidInputError(
                f"memory {items[i].id!r} has a {row.size}-dimensional vector but the query has {query.size}; "
                "embed memories and queries with the same embedder"
            )
        rows.append(row)
    raw = (np.clip(np.stack(rows) @ query, -1.0, 1.0) + 1.0) / 2.0
    low, high = float(raw.min()), float(raw.max())
    if high - low <= 1e-12:
        return neutral
    scaled = (raw - low) / (high - low)
    out = list(neutral)
    for (i, _), value in zip(with_vector, scaled.tolist(), strict=True):
        out[i] = float(value)
    return out


def _recency(last_used_at: float, now: float, half_life_s: float) -> float:
    if not math.isfinite(last_used_at):
        return 1.0 if last_used_at == math.inf else 0.0
    age = max(0.0, now - last_used_at)
    return float(0.5 ** (age / half_life_s))


def _importance(value: float) -> float:
    return 0.0 if math.isnan(value) else min(1.0, max(0.0, value))


def rank_memories(
    items: Sequence[MemoryItem],
    *,
    query_vector: _Vector | None,
    now: float,
    k: int,
    recency_half_life_s: float = 3 * 24 * 3600,
    weights: tuple[float, float, float] = (1.0, 1.0, 1.0),
    min_score: float = 0.0,
) -> list[tuple[MemoryItem, float]]:
    """The best ``k`` of ``items`` with their scores, best first.

    ``weights`` are (relevance, recency, importance), each finite and >= 0. Raises
    :class:`~npc_engine.errors.InvalidInputError` for ``k < 1``, a non-finite ``now``,
    a non-positive half-life, bad weights, a non-finite ``min_score``, or vectors whose
    dimension differs from the query's.
    """
    if isinstance(k, bool) or not isinstance(k, int) or k < 1:
        raise InvalidInputError(f"k must be an integer >= 1, not {k!r}")
    if not math.isfinite(now):
        raise InvalidInputError(f"now must be a finite time in seconds, not {now!r}")
    if not (math.isfinite(recency_half_life_s) and recency_half_life_s > 0):
        raise InvalidInputError(f"recency_half_life_s must be finite and > 0, not {recency_half_life_s!r}")
    if len(weights) != 3 or not all(math.isfinite(w) and w >= 0 for w in weights):
        raise InvalidInputError(f"weights must be three finite numbers >= 0, not {weights!r}")
    if not math.isfinite(min_score):
        raise InvalidInputError(f"min_score must be finite, not {min_score!r}")
    if not items:
        return []
    w_rel, w_rec, w_imp = (float(w) for w in weights)
    relevance = _relevance(items, query_vector)
    scored: list[tuple[float, str, int, MemoryItem]] = []
    for index, (item, rel) in enumerate(zip(items, relevance, strict=True)):
        score = (
            w_rel * rel
            + w_rec * _recency(item.last_used_at, now, recency_half_life_s)
            + w_imp * _importance(item.importance)
        )
        if score >= min_score:
            scored.append((score, item.id, index, item))
    # round for the ordering only, so float noise in the last bits cannot reorder equal scores
    scored.sort(key=lambda entry: (-round(entry[0], 12), entry[1], entry[2]))
    return [(item, score) for score, _, _, item in scored[:k]]
