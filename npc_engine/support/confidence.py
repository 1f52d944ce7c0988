"""Answer or escalate: how sure the knowledge base is that it knows what a question is about.

:func:`assess` turns the retrieved FAQ entries and resolved tickets for one question
into an :class:`Assessment`: the best supported category, a confidence in [0, 1], and
whether that clears the answer threshold. It is pure: the same hits give the same answer.

Features (``Assessment.features``; the first five feed the model, the rest are shown for
diagnosis only). Similarities are the dense cosine scores of the hits; hits found only by
BM25 count for nothing here.

- ``top_similarity``: the best hit's similarity.
- ``vote_share``: the winner's share of an ``exp(similarity / 0.02)`` vote over the top 10
  hits (as in :mod:`knowledge.vote`); the winner is the ``category``.
- ``margin``: the winner's best similarity minus the best similarity of any other category.
- ``density_z``: novelty. The mean similarity of the question to the winner's 3 nearest
  tickets (padded with the weakest hit's similarity when fewer are among the hits), against the same figure for the winner's own tickets (each ticket to its 3
  nearest same-category neighbours: :class:`CategoryStats`), as a z-score. A question the
  knowledge base cannot answer still has nearest neighbours in *some* category, usually a
  related one; but it sits further from them than that category's tickets sit from each
  other. This is the feature that separates unsupported questions best (AUROC 0.87-0.89
  between held-out-intent and supported questions on a split of the BANKING77 training
  set, against 0.75-0.88 for the vote share). 0 without stats.
- ``faq_agrees``: 1 when the best FAQ hit is of the winning category (FAQ and ticket
  evidence agree), else 0. The caller should search FAQ entries on their own (a few hits)
  beside the tickets, or FAQ entries rarely make the ticket-dominated top hits at all.
- diagnostic: ``supporting_tickets`` (winner's tickets among the top 10), ``faq_similarity``
  (the winner's best FAQ hit), ``density`` (the raw mean above), ``lexical_agrees`` (the
  hit BM25 ranked first is of the winner).

Calibration: ``confidence = sigmoid(intercept + sum(weight * feature))``, a logistic model
fit by :func:`fit_model` on the knowledge base's own tickets, never on test questions:

- *supported* examples: every ticket asked as a question against all the other tickets
  (leave one out); the label is whether the winner is the ticket's category;
- *unsupported* examples: every ticket asked against the knowledge base with its whole
  category (tickets and FAQ entries) removed (leave one category out); the label is 0.
  They are weighted so that they make up ``unsupported_prior`` (default 10%) of the
  examples: the share of questions the knowledge base is expected not to cover. On
  supported questions the confidence is therefore a little below the observed accuracy
  (it keeps room for the unsupported ones it cannot tell apart).

Weights are constrained to be >= 0 (every feature is evidence *for* an answer), so the
confidence never falls when the evidence gets stronger. ``ConfidenceModel.threshold`` is
chosen on the same leave-one-out run: the smallest threshold that answers
``target_coverage`` (85%) of the supported examples. :data:`DEFAULT_MODEL` was fit this way
on the BANKING77 training set (10,003 queries, all 77 intents; bundled e5 embedder, FAQ
questions written from the intent names); to refit for a tenant, call
:func:`fit_model` with its ticket and FAQ vectors at ingest time and store the result with
its :class:`CategoryStats` (both are plain data: ``as_dict`` / ``from_dict``).
Hyperparameters (``unsupported_prior``, the feature set, 3 neighbours, 10 voters, the
temperature) were chosen on a split of the BANKING77 *training* set (80% knowledge, 20%
questions, 10 intents held out, 5 seeds); the test set was not used. Features that did not
help there and were left out: centroid and Mahalanobis distances, neighbour purity, local
density ratios, vote entropy, BM25 agreement (+0.006), quadratic terms.

Measured (``bench/support_accuracy.py``, BANKING77 test, 10 intents held out, seed 0, model
refit on the ingested train tickets): accuracy 0.976 at coverage 0.851 with the threshold
chosen on train, 0.812 of held-out-intent questions escalated; a plain 5-NN vote at the
same coverage: accuracy 0.974, 0.743 escalated. Over ten hold-out draws (seeds 0-9) the
escalated share is 0.675-0.812 (mean 0.76) against 0.53-0.74 (mean 0.65) for 5-NN, at
accuracy 0.972-0.980. Calibration on supported questions: expected calibration error 0.045.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from knowledge.types import SearchHit
from npc_engine.errors import InvalidInputError

__all__ = [
    "DEFAULT_MODEL",
    "FEATURES",
    "Assessment",
    "CategoryStats",
    "ConfidenceModel",
    "assess",
    "fit_model",
]

FEATURES = ("top_similarity", "vote_share", "margin", "density_z", "faq_agrees")
TEMPERATURE = 0.02
VOTERS = 10
NEIGHBOURS = 3
EVIDENCE = 5


@dataclass(frozen=True, slots=True)
class CategoryStats:
    """How tightly each category's tickets cluster, from the knowledge base's own vectors.

    For each ticket: its mean similarity to its ``k`` nearest tickets of the same category.
    Per category: the mean and standard deviation of that figure. Categories with fewer
    than ``k + 1`` tickets use the pooled figures.
    """

    mean: dict[str, float]
    std: dict[str, float]
    pooled_mean: float
    pooled_std: float
    k: int = NEIGHBOURS

    @classmethod
    def from_vectors(
        cls, vectors: np.ndarray, categories: Sequence[str], *, k: int = NEIGHBOURS
    ) -> CategoryStats:
        """From L2-normalised ticket vectors (one row per ticket) and their categories."""
        labels = np.asarray(categories, dtype=object)
        mean: dict[str, float] = {}
        std: dict[str, float] = {}
        pooled: list[np.ndarray] = []
        for category in dict.fromkeys(categories):
            group = np.asarray(vectors[labels == category], dtype=np.float32)
            if len(group) <= k:
                continue
            sims = group @ group.T
            np.fill_diagonal(sims, -np.inf)
            density = -np.sort(-sims, axis=1)[:, :k].mean(axis=1)
            mean[category], std[category] = float(density.mean()), float(density.std()) + 1e-3
            pooled.append(density)
        every = np.concatenate(pooled) if pooled else np.zeros(1)
        return cls(mean, std, float(every.mean()), float(every.std()) + 1e-3, k)

    def z(self, category: str, density: float) -> float:
        mean = self.mean.get(category, self.pooled_mean)
        return (density - mean) / self.std.get(category, self.pooled_std)

    def as_dict(self) -> dict[str, object]:
        return {
            "mean": self.mean,
            "std": self.std,
            "pooled": [self.pooled_mean, self.pooled_std],
            "k": self.k,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> CategoryStats:
        pooled_mean, pooled_std = data["pooled"]
        mean = {str(c): float(v) for c, v in data["mean"].items()}
        std = {str(c): float(v) for c, v in data["std"].items()}
        return cls(mean, std, float(pooled_mean), float(pooled_std), int(data.get("k", NEIGHBOURS)))


@dataclass(frozen=True, slots=True)
class ConfidenceModel:
    """``sigmoid(intercept + sum(weights[f] * features[f]))``, and the answer threshold."""

    weights: dict[str, float]
    intercept: float
    threshold: float

    def probability(self, features: Mapping[str, float]) -> float:
        z = self.intercept + sum(w * features.get(name, 0.0) for name, w in self.weights.items())
        return 1.0 / (1.0 + math.exp(-max(-60.0, min(60.0, z))))

    def as_dict(self) -> dict[str, object]:
        return {"weights": self.weights, "intercept": self.intercept, "threshold": self.threshold}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ConfidenceModel:
        weights = {str(name): float(w) for name, w in data["weights"].items()}
        return cls(weights, float(data["intercept"]), float(data["threshold"]))


# fit_model on the BANKING77 training set, all 77 intents (see the module docstring). To refit:
# `python bench/support_accuracy.py --holdout-intents 0` prints the fitted model as `model=...`.
DEFAULT_MODEL = ConfidenceModel(
    weights={
        "top_similarity": 0.291,
        "vote_share": 3.947,
        "margin": 42.86,
        "density_z": 0.708,
        "faq_agrees": 0.129,
    },
    intercept=-2.170,
    threshold=0.681,
)


@dataclass(frozen=True, slots=True)
class Assessment:
    """What the knowledge base can say about a question.

    ``category`` is ``None`` only when no hit carried a category and a dense similarity.
    ``evidence`` lists the source ids backing ``category``: its FAQ entries first, then
    its tickets, best first (at most 5).
    """

    category: str | None
    confidence: float
    answerable: bool
    features: dict[str, float] = field(default_factory=dict)
    evidence: tuple[str, ...] = ()


def assess(
    hits: Sequence[SearchHit],
    *,
    stats: CategoryStats | None = None,
    model: ConfidenceModel = DEFAULT_MODEL,
    threshold: float | None = None,
) -> Assessment:
    """Assess FAQ and ticket ``hits`` for one question (any order; other kinds are ignored).

    Pass what the model was fit on (:func:`fit_model`'s ``candidates`` and ``faq_k``): the
    ticket search's hits with 40 dense candidates (``kb.search(kinds=("ticket",), k=80,
    candidates=40)``) plus the 5 best FAQ entries searched on their own. Fewer hits raise
    the weakest similarity that pads ``density`` and ``margin``, and shift the confidence.

    ``threshold`` overrides ``model.threshold``. With no usable hit (none, or BM25 only:
    dense search was down), confidence is 0 and the question is not answerable: lexical
    matches alone are not trusted to answer a customer.
    """
    usable = [
        h
        for h in hits
        if h.dense_score is not None
        and h.kind in ("faq", "ticket")
        and isinstance(h.metadata.get("category"), str)
    ]
    if not usable:
        return Assessment(None, 0.0, False, {name: 0.0 for name in FEATURES})
    usable.sort(key=lambda h: -float(h.dense_score or 0.0))
    sims = np.array([h.dense_score for h in usable], dtype=np.float64)
    cats = [str(h.metadata["category"]) for h in usable]
    is_faq = np.array([h.kind == "faq" for h in usable])
    category, features = _features(sims, cats, is_faq, stats)
    lexical = [h for h in hits if h.lexical_rank is not None and isinstance(h.metadata.get("category"), str)]
    best_lexical = min(lexical, key=lambda h: h.lexical_rank or 0, default=None)
    features["lexical_agrees"] = float(
        best_lexical is not None and best_lexical.metadata["category"] == category
    )
    confidence = model.probability(features)
    cut = model.threshold if threshold is None else threshold
    supporting = sorted(
        (h for h, c in zip(usable, cats, strict=True) if c == category), key=lambda h: h.kind != "faq"
    )
    evidence = tuple(dict.fromkeys(h.source_id for h in supporting))[:EVIDENCE]
    return Assessment(category, confidence, confidence >= cut, features, evidence)


def _features(
    sims: np.ndarray, cats: Sequence[str], is_faq: np.ndarray, stats: CategoryStats | None
) -> tuple[str, dict[str, float]]:
    """The winner and its features, from hits sorted by similarity (best first)."""
    top = float(sims[0])
    floor = float(sims[-1])
    votes: dict[str, float] = {}
    for sim, cat in zip(sims[:VOTERS], cats[:VOTERS], strict=False):
        votes[cat] = votes.get(cat, 0.0) + math.exp((float(sim) - top) / TEMPERATURE)
    winner = max(votes, key=lambda c: votes[c])
    mine = np.fromiter((c == winner for c in cats), dtype=bool, count=len(cats))
    others = sims[~mine]
    best_other = float(others[0]) if len(others) else floor
    tickets = sims[mine & ~is_faq][:NEIGHBOURS]
    density = float(np.concatenate([tickets, np.full(NEIGHBOURS - len(tickets), floor)]).mean())
    faq_sims = sims[is_faq]
    faq_cats = [c for c, f in zip(cats, is_faq, strict=True) if f]
    own_faq = sims[mine & is_faq]
    features = {
        "top_similarity": top,
        "vote_share": votes[winner] / sum(votes.values()),
        "margin": float(sims[mine][0]) - best_other,
        "density_z": stats.z(winner, density) if stats is not None else 0.0,
        "faq_agrees": float(len(faq_sims) > 0 and faq_cats[0] == winner),
        "supporting_tickets": float(np.count_nonzero(mine[:VOTERS] & ~is_faq[:VOTERS])),
        "faq_similarity": float(own_faq[0]) if len(own_faq) else 0.0,
        "density": density,
    }
    return winner, features


def fit_model(
    ticket_vectors: np.ndarray,
    ticket_categories: Sequence[str],
    faq_vectors: np.ndarray,
    faq_categories: Sequence[str],
    *,
    stats: CategoryStats | None = None,
    unsupported_prior: float = 0.1,
    target_coverage: float = 0.85,
    candidates: int = 40,
    faq_k: int = 5,
    l2: float = 1.0,
) -> ConfidenceModel:
    """Fit the confidence model on a knowledge base's own tickets (see the module docstring).

    Vectors are L2-normalised rows as the embedder returned them for the questions (the
    same vectors retrieval searches). ``candidates`` and ``faq_k`` mirror the support
    search: that many ticket hits and FAQ hits per question. Costs two similarity
    passes over the tickets (about 3 s for 9,000 tickets on one core).
    """
    labels = np.asarray(ticket_categories, dtype=object)
    counts: dict[str, int] = {}
    for category in ticket_categories:
        counts[category] = counts.get(category, 0) + 1
    if sum(1 for n in counts.values() if n >= 2) < 2 or len(labels) != len(ticket_vectors):
        raise InvalidInputError("fitting needs tickets of at least two categories with two tickets each")
    if not 0.0 < unsupported_prior < 1.0:
        raise InvalidInputError("unsupported_prior must be between 0 and 1")
    stats = stats or CategoryStats.from_vectors(ticket_vectors, ticket_categories)
    tickets = np.asarray(ticket_vectors, dtype=np.float32)
    faqs = np.asarray(faq_vectors, dtype=np.float32).reshape(-1, tickets.shape[1])
    faq_labels = np.asarray(faq_categories, dtype=object)
    rows: list[list[float]] = []
    correct: list[bool] = []
    unsupported: list[bool] = []
    for start in range(0, len(tickets), 512):
        block = tickets[start : start + 512]
        own = labels[start : start + 512]
        sims, faq_sims = block @ tickets.T, block @ faqs.T
        same, same_faq = own[:, None] == labels[None, :], own[:, None] == faq_labels[None, :]
        for held_out in (False, True):
            masked = np.where(same, -np.inf, sims) if held_out else sims.copy()
            if not held_out:
                masked[np.arange(len(block)), np.arange(start, start + len(block))] = -np.inf
            masked_faq = np.where(same_faq, -np.inf, faq_sims) if held_out else faq_sims
            for i in range(len(block)):
                hit_sims, hit_cats, hit_faq = _simulated_hits(
                    masked[i], labels, masked_faq[i], faq_labels, candidates, faq_k
                )
                if not len(hit_sims):
                    continue
                winner, features = _features(hit_sims, hit_cats, hit_faq, stats)
                rows.append([features[name] for name in FEATURES])
                correct.append(not held_out and winner == own[i])
                unsupported.append(held_out)
    x, y, out = np.array(rows), np.array(correct, dtype=np.float64), np.array(unsupported)
    weight = np.ones(len(y))
    weight[out] = unsupported_prior / (1 - unsupported_prior) * (~out).sum() / max(out.sum(), 1)
    coef, intercept = _nonnegative_logistic(x, y, weight, l2=l2)
    confidence = 1.0 / (1.0 + np.exp(-(x[~out] @ coef + intercept)))
    ranked = np.sort(confidence)
    threshold = float(ranked[min(len(ranked) - 1, int((1 - target_coverage) * len(ranked)))])
    return ConfidenceModel(
        {name: float(c) for name, c in zip(FEATURES, coef, strict=True)}, float(intercept), threshold
    )


def _simulated_hits(
    sims: np.ndarray,
    labels: np.ndarray,
    faq_sims: np.ndarray,
    faq_labels: np.ndarray,
    candidates: int,
    faq_k: int,
) -> tuple[np.ndarray, list[str], np.ndarray]:
    """What the support search would return: top tickets and top FAQ entries, merged by similarity."""
    parts = []
    for values, kinds, k, is_faq in ((sims, labels, candidates, False), (faq_sims, faq_labels, faq_k, True)):
        k = min(k, int(np.isfinite(values).sum()))
        if k:
            top = np.argpartition(-values, k - 1)[:k]
            parts.append((values[top], kinds[top], np.full(k, is_faq)))
    if not parts:
        return np.zeros(0), [], np.zeros(0, dtype=bool)
    merged = np.concatenate([p[0] for p in parts])
    order = np.argsort(-merged, kind="stable")
    cats = np.concatenate([p[1] for p in parts])[order]
    return merged[order], [str(c) for c in cats], np.concatenate([p[2] for p in parts])[order]


def _nonnegative_logistic(
    x: np.ndarray, y: np.ndarray, weight: np.ndarray, *, l2: float
) -> tuple[np.ndarray, float]:
    """Weighted logistic regression (Newton, L2 on standardised weights), weights kept >= 0.

    Active set: fit, pin the most negative weight at 0, refit, until none is negative.
    Returns weights and intercept for the raw (unstandardised) features.
    """
    mean, scale = x.mean(axis=0), x.std(axis=0) + 1e-9
    z = np.hstack([(x - mean) / scale, np.ones((len(x), 1))])
    free = list(range(x.shape[1]))
    while True:
        cols = [*free, x.shape[1]]
        beta = _newton(z[:, cols], y, weight, l2)
        if not free or beta[:-1].min() >= 0:
            break
        free.pop(int(np.argmin(beta[:-1])))
    coef = np.zeros(x.shape[1])
    coef[free] = beta[:-1] / scale[free]
    return coef, float(beta[-1] - (coef * mean).sum())


def _newton(z: np.ndarray, y: np.ndarray, weight: np.ndarray, l2: float) -> np.ndarray:
    beta = np.zeros(z.shape[1])
    penalty = l2 * np.eye(z.shape[1])
    penalty[-1, -1] = 0.0  # the intercept is not shrunk
    for _ in range(100):
        p = 1.0 / (1.0 + np.exp(-np.clip(z @ beta, -60, 60)))
        gradient = z.T @ (weight * (p - y)) + penalty @ beta
        hessian = (z * (weight * p * (1 - p))[:, None]).T @ z + penalty + 1e-9 * np.eye(len(beta))
        step = np.linalg.solve(hessian, gradient)
        beta -= step
        if np.abs(step).max() < 1e-8:
            break
    return beta
