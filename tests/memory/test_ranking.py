"""Memory ranking: relevance + recency + importance, deterministic and validated."""

from __future__ import annotations

import math
import random

import numpy as np
import pytest

from npc_engine.errors import InvalidInputError
from npc_engine.memory import MemoryItem, rank_memories

DAY = 24 * 3600.0
NOW = 100 * DAY


def item(
    id: str, *, vector: list[float] | None = None, importance: float = 0.5, age: float = 0.0
) -> MemoryItem:
    return MemoryItem(
        id=id, text=id, importance=importance, created_at=NOW - age, last_used_at=NOW - age, vector=vector
    )


def ids(ranked: list[tuple[MemoryItem, float]]) -> list[str]:
    return [m.id for m, _ in ranked]


def test_relevant_beats_recent_when_weights_favour_relevance() -> None:
    relevant = item("relevant", vector=[1.0, 0.0], age=10 * DAY)
    recent = item("recent", vector=[0.0, 1.0], age=0.0)
    ranked = rank_memories([recent, relevant], query_vector=[1.0, 0.0], now=NOW, k=2, weights=(3.0, 1.0, 1.0))
    assert ids(ranked) == ["relevant", "recent"]


def test_recent_beats_relevant_when_weights_favour_recency() -> None:
    relevant = item("relevant", vector=[1.0, 0.0], age=10 * DAY)
    recent = item("recent", vector=[0.0, 1.0], age=0.0)
    ranked = rank_memories([relevant, recent], query_vector=[1.0, 0.0], now=NOW, k=2, weights=(0.5, 3.0, 1.0))
    assert ids(ranked) == ["recent", "relevant"]


def test_important_beats_relevant_and_recent_when_weights_favour_importance() -> None:
    important = item("important", vector=[0.0, 1.0], importance=0.9, age=10 * DAY)
    other = item("other", vector=[1.0, 0.0], importance=0.1, age=0.0)
    ranked = rank_memories([other, important], query_vector=[1.0, 0.0], now=NOW, k=2, weights=(0.5, 0.5, 5.0))
    assert ids(ranked) == ["important", "other"]


def test_recency_halves_every_half_life() -> None:
    memories = [item("a", age=0.0), item("b", age=DAY), item("c", age=2 * DAY)]
    ranked = rank_memories(
        memories, query_vector=None, now=NOW, k=3, recency_half_life_s=DAY, weights=(0.0, 1.0, 0.0)
    )
    assert [score for _, score in ranked] == pytest.approx([1.0, 0.5, 0.25])


def test_a_last_use_in_the_future_counts_as_now() -> None:
    future = MemoryItem("f", "f", 0.5, NOW, NOW + DAY)
    [(_, score)] = rank_memories([future], query_vector=None, now=NOW, k=1, weights=(0.0, 1.0, 0.0))
    assert score == 1.0


def test_without_a_query_vector_every_relevance_is_one_half() -> None:
    memories = [item("a", vector=[1.0, 0.0]), item("b", vector=[0.0, 1.0]), item("c")]
    ranked = rank_memories(memories, query_vector=None, now=NOW, k=3, weights=(1.0, 0.0, 0.0))
    assert [score for _, score in ranked] == [0.5, 0.5, 0.5]


def test_a_single_vector_carries_no_ranking_information() -> None:
    memories = [item("a"), item("b", vector=[1.0, 0.0])]
    ranked = rank_memories(memories, query_vector=[1.0, 0.0], now=NOW, k=2, weights=(1.0, 0.0, 0.0))
    assert [score for _, score in ranked] == [0.5, 0.5]


def test_when_no_item_has_a_vector_every_relevance_is_one_half() -> None:
    ranked = rank_memories(
        [item("a"), item("b")], query_vector=[1.0, 0.0], now=NOW, k=2, weights=(1.0, 0.0, 0.0)
    )
    assert [score for _, score in ranked] == [0.5, 0.5]


def test_relevance_is_min_max_rescaled_and_a_missing_vector_is_neutral() -> None:
    memories = [
        item("best", vector=[1.0, 0.0]),
        item("mid", vector=[0.6, 0.8]),
        item("worst", vector=[-1.0, 0.0]),
        item("none"),
    ]
    ranked = dict(
        (m.id, s)
        for m, s in rank_memories(memories, query_vector=[1.0, 0.0], now=NOW, k=4, weights=(1.0, 0.0, 0.0))
    )
    assert ranked["best"] == pytest.approx(1.0)
    assert ranked["worst"] == pytest.approx(0.0)
    assert ranked["mid"] == pytest.approx(0.8)
    assert ranked["none"] == 0.5


def test_vectors_that_are_not_unit_length_are_normalised() -> None:
    memories = [item("long", vector=[10.0, 0.0]), item("short", vector=[0.0, 0.1])]
    ranked = rank_memories(memories, query_vector=[2.0, 0.0], now=NOW, k=2, weights=(1.0, 0.0, 0.0))
    assert [(m.id, s) for m, s in ranked] == [("long", 1.0), ("short", 0.0)]


def test_numpy_vectors_are_accepted() -> None:
    memories = [
        MemoryItem("a", "a", 0.5, NOW, NOW, np.array([0.0, 1.0], dtype=np.float32)),
        MemoryItem("b", "b", 0.5, NOW, NOW, np.array([1.0, 0.0], dtype=np.float32)),
    ]
    ranked = rank_memories(memories, query_vector=np.array([1.0, 0.0]), now=NOW, k=2)
    assert ids(ranked) == ["b", "a"]


def test_the_score_is_the_weighted_sum_of_the_three_components() -> None:
    memory = item("a", importance=0.8, age=DAY)
    [(_, score)] = rank_memories(
        [memory], query_vector=None, now=NOW, k=1, recency_half_life_s=DAY, weights=(2.0, 3.0, 4.0)
    )
    assert score == pytest.approx(2.0 * 0.5 + 3.0 * 0.5 + 4.0 * 0.8)


def test_importance_is_clamped_to_zero_one() -> None:
    memories = [item("high", importance=7.0), item("low", importance=-3.0), item("nan", importance=math.nan)]
    ranked = dict(
        (m.id, s)
        for m, s in rank_memories(memories, query_vector=None, now=NOW, k=3, weights=(0.0, 0.0, 1.0))
    )
    assert ranked == {"high": 1.0, "low": 0.0, "nan": 0.0}


def test_ties_are_broken_by_id() -> None:
    memories = [item("c"), item("a"), item("b")]
    assert ids(rank_memories(memories, query_vector=None, now=NOW, k=3)) == ["a", "b", "c"]


def test_the_same_items_in_any_order_rank_the_same() -> None:
    rng = random.Random(7)
    memories = [
        item(
            f"m{i}",
            vector=[rng.uniform(-1, 1) for _ in range(8)],
            importance=rng.random(),
            age=rng.uniform(0, 9 * DAY),
        )
        for i in range(50)
    ]
    query = [rng.uniform(-1, 1) for _ in range(8)]
    expected = rank_memories(memories, query_vector=query, now=NOW, k=10)
    for _ in range(5):
        rng.shuffle(memories)
        assert rank_memories(memories, query_vector=query, now=NOW, k=10) == expected


def test_at_most_k_are_returned_best_first() -> None:
    memories = [item(str(i), importance=i / 10) for i in range(10)]
    ranked = rank_memories(memories, query_vector=None, now=NOW, k=3)
    assert ids(ranked) == ["9", "8", "7"]
    assert [s for _, s in ranked] == sorted((s for _, s in ranked), reverse=True)


def test_items_below_min_score_are_dropped() -> None:
    memories = [item("keep", importance=1.0), item("drop", importance=0.0, age=30 * DAY)]
    assert ids(rank_memories(memories, query_vector=None, now=NOW, k=5, min_score=1.0)) == ["keep"]


def test_no_items_give_no_memories() -> None:
    assert rank_memories([], query_vector=None, now=NOW, k=3) == []


@pytest.mark.parametrize("k", [0, -1])
def test_k_below_one_is_rejected(k: int) -> None:
    with pytest.raises(InvalidInputError):
        rank_memories([item("a")], query_vector=None, now=NOW, k=k)


@pytest.mark.parametrize("now", [math.nan, math.inf, -math.inf])
def test_a_non_finite_now_is_rejected(now: float) -> None:
    with pytest.raises(InvalidInputError):
        rank_memories([item("a")], query_vector=None, now=now, k=1)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"recency_half_life_s": 0.0},
        {"weights": (1.0, -1.0, 1.0)},
        {"weights": (1.0, math.nan, 1.0)},
        {"min_score": math.nan},
    ],
)
def test_bad_half_life_weights_or_min_score_are_rejected(kwargs: dict[str, object]) -> None:
    with pytest.raises(InvalidInputError):
        rank_memories([item("a")], query_vector=None, now=NOW, k=1, **kwargs)  # type: ignore[arg-type]


def test_a_vector_of_another_dimension_is_rejected() -> None:
    with pytest.raises(InvalidInputError):
        rank_memories([item("a", vector=[1.0, 0.0, 0.0])], query_vector=[1.0, 0.0], now=NOW, k=1)
