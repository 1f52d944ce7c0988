"""Answer-or-escalate confidence: ``assess`` on synthetic hits, ``fit_model``, and the benchmark's world."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest
import yaml

from knowledge.types import SearchHit
from npc_engine.errors import InvalidInputError
from npc_engine.settings import Settings
from npc_engine.support.confidence import (
    DEFAULT_MODEL,
    FEATURES,
    CategoryStats,
    ConfidenceModel,
    assess,
    fit_model,
)


def hit(
    category: str,
    similarity: float | None,
    *,
    kind: str = "ticket",
    n: int = 0,
    lexical_rank: int | None = None,
) -> SearchHit:
    source = f"{kind}:{category}-{n}"
    return SearchHit(
        chunk_id=f"{source}#0",
        source_id=source,
        kind=kind,  # type: ignore[arg-type]
        title="",
        text="",
        score=0.0,
        dense_score=similarity,
        lexical_rank=lexical_rank,
        dense_rank=None,
        metadata={"category": category},
    )


def majority(top: float = 0.93) -> list[SearchHit]:
    hits = [hit("refunds", top - 0.01 * i, n=i) for i in range(5)]
    hits += [hit("payments", 0.84 - 0.01 * i, n=i) for i in range(5)]
    return [*hits, hit("refunds", 0.86, kind="faq"), hit("payments", 0.80, kind="faq")]


def test_a_clear_majority_is_answered_with_its_category() -> None:
    result = assess(majority())
    assert result.category == "refunds"
    assert result.confidence > 0.9
    assert result.answerable


def test_split_votes_give_lower_confidence() -> None:
    split = [hit("refunds" if i % 2 else "payments", 0.90 - 0.002 * i, n=i) for i in range(10)]
    assert assess(split).confidence < assess(majority(top=0.90)).confidence - 0.3


def test_no_hits_means_no_confidence_and_escalation() -> None:
    result = assess([])
    assert (result.category, result.confidence, result.answerable, result.evidence) == (None, 0.0, False, ())
    assert set(result.features) == set(FEATURES)


def test_lexical_matches_alone_are_not_trusted() -> None:
    result = assess([hit("refunds", None, lexical_rank=1), hit("refunds", None, lexical_rank=2, n=1)])
    assert result.confidence == 0.0
    assert not result.answerable


def test_faq_disagreeing_with_the_tickets_lowers_confidence() -> None:
    tickets = [hit("refunds", 0.90 - 0.01 * i, n=i) for i in range(3)] + [hit("payments", 0.86, n=9)]
    agree = assess([*tickets, hit("refunds", 0.80, kind="faq"), hit("payments", 0.78, kind="faq")])
    disagree = assess([*tickets, hit("payments", 0.80, kind="faq"), hit("refunds", 0.78, kind="faq")])
    assert agree.category == disagree.category == "refunds"
    assert (agree.features["faq_agrees"], disagree.features["faq_agrees"]) == (1.0, 0.0)
    assert disagree.confidence < agree.confidence


def test_confidence_rises_with_the_top_similarity() -> None:
    rest = [hit("refunds", 0.85, n=1), hit("payments", 0.84, n=2), hit("refunds", 0.83, n=3)]
    confidences = [assess([hit("refunds", top), *rest]).confidence for top in (0.86, 0.88, 0.90, 0.92, 0.95)]
    assert confidences == sorted(confidences)
    assert confidences[-1] > confidences[0]


def test_a_question_far_from_its_category_is_novel() -> None:
    stats = CategoryStats(mean={"refunds": 0.91}, std={"refunds": 0.01}, pooled_mean=0.9, pooled_std=0.03)
    typical = assess(majority(top=0.93), stats=stats)
    novel = assess(majority(top=0.87), stats=stats)
    assert typical.features["density_z"] > 0 > novel.features["density_z"]
    assert novel.confidence < typical.confidence
    assert not novel.answerable


def test_evidence_cites_the_winning_category_faq_first() -> None:
    result = assess(majority())
    assert result.evidence[0] == "faq:refunds-0"
    assert all(source.startswith(("faq:refunds", "ticket:refunds")) for source in result.evidence)
    assert len(result.evidence) == 5


def test_an_explicit_threshold_overrides_the_model() -> None:
    result = assess(majority(), threshold=0.999999)
    assert not result.answerable
    assert result.confidence == assess(majority()).confidence


def test_models_and_stats_round_trip_as_plain_data() -> None:
    stats = CategoryStats(mean={"a": 0.9}, std={"a": 0.01}, pooled_mean=0.8, pooled_std=0.05)
    assert CategoryStats.from_dict(stats.as_dict()) == stats
    assert ConfidenceModel.from_dict(DEFAULT_MODEL.as_dict()) == DEFAULT_MODEL


def clusters(rng: np.random.Generator, centres: np.ndarray, per: int, noise: float) -> np.ndarray:
    points = np.repeat(centres, per, axis=0) + noise * rng.standard_normal(
        (len(centres) * per, centres.shape[1])
    )
    return points / np.linalg.norm(points, axis=1, keepdims=True)


def test_fit_model_learns_to_doubt_questions_from_an_unknown_category() -> None:
    rng = np.random.default_rng(7)
    centres = rng.standard_normal((7, 24))
    known, unknown = centres[:6], centres[6:]
    tickets = clusters(rng, known, 30, 0.12)
    labels = [f"c{i}" for i in range(6) for _ in range(30)]
    faqs = known / np.linalg.norm(known, axis=1, keepdims=True)
    names = [f"c{i}" for i in range(6)]
    stats = CategoryStats.from_vectors(tickets, labels)
    model = fit_model(tickets, labels, faqs, names, stats=stats)
    assert all(w >= 0 for w in model.weights.values())
    assert 0.0 < model.threshold < 1.0

    def confidence(query: np.ndarray) -> float:
        sims = tickets @ query
        top = np.argsort(-sims)[:40]
        hits = [hit(labels[i], float(sims[i]), n=int(i)) for i in top]
        hits += [hit(names[i], float(faqs[i] @ query), kind="faq") for i in range(6)]
        return assess(hits, stats=stats, model=model).confidence

    inside = [confidence(q) for q in clusters(rng, known, 5, 0.12)]
    outside = [confidence(q) for q in clusters(rng, unknown, 30, 0.12)]
    assert np.median(inside) > np.median(outside) + 0.3


def test_fit_model_refuses_too_little_knowledge() -> None:
    vectors = np.eye(3, dtype=np.float32)
    with pytest.raises(InvalidInputError):
        fit_model(vectors, ["a", "a", "b"], vectors[:1], ["a"])


# -- the benchmark's world building, end to end on a tiny CSV with the hash embedder --------------
TOPICS = {
    "refund": ["refund my {} purchase", "I want my money back for the {}", "can I get a refund on the {}"],
    "password": ["reset my {} password", "forgot the password for {}", "cannot log in, {} password lost"],
    "shipping": ["where is my {} parcel", "my {} order has not arrived", "track the {} delivery"],
    "billing": ["I was charged twice for {}", "double charge on {}", "billed twice for the {}"],
}
THINGS = ["sword", "shield", "potion", "cloak", "helmet", "boots"]


def write_csv(path: Path, rows: list[tuple[str, str]]) -> list[dict[str, str]]:
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["text", "category"])
        writer.writerows(rows)
    return [{"text": t, "category": c} for t, c in rows]


@pytest.fixture
def tiny(tmp_path: Path) -> tuple[list[dict[str, str]], list[dict[str, str]]]:
    rows = [(p.format(t), c) for c, patterns in TOPICS.items() for p in patterns for t in THINGS]
    train = write_csv(tmp_path / "train.csv", [r for i, r in enumerate(rows) if i % 6])
    test = write_csv(tmp_path / "test.csv", [r for i, r in enumerate(rows) if not i % 6])
    return train, test


def test_the_bench_world_holds_only_train_knowledge_of_known_categories(
    tmp_path: Path, tiny: tuple[list[dict[str, str]], list[dict[str, str]]]
) -> None:
    from bench.support_accuracy import build_world

    train, _test = tiny
    faq, tickets = build_world(tmp_path / "world", train, {"billing"})
    assert sorted(f["category"] for f in faq) == ["password", "refund", "shipping"]
    assert len(tickets) == sum(r["category"] != "billing" for r in train)
    written = yaml.safe_load((tmp_path / "world" / "faq" / "intents.yaml").read_text(encoding="utf-8"))
    assert written[0]["question"] == "Refund?"
    assert written[0]["answer"].startswith("Typical questions: «")
    assert (tmp_path / "world" / "tickets" / "train.jsonl").read_text().count("\n") == len(tickets)


async def test_the_bench_runs_end_to_end_with_the_hash_embedder(
    tmp_path: Path, tiny: tuple[list[dict[str, str]], list[dict[str, str]]]
) -> None:
    from bench.support_accuracy import print_report, run, save_plot

    train, test = tiny
    settings = Settings(data_dir=tmp_path, embedder="hash", vector_store="memory", tenant="bench")
    out = await run(train, test, settings=settings, holdout=1, seed=3, verbose=False)
    assert len(out.held_out) == 1
    assert out.unsupported == sum(r["category"] in out.held_out for r in test)
    assert out.supported + out.unsupported == len(test)
    assert out.curve[-1]["coverage"] == 1.0  # the lowest threshold answers everything
    assert {"accuracy", "coverage", "holdout_escalated"} <= out.train_point.keys()
    line = print_report(out)
    assert line.startswith("accuracy=") and "holdout_escalated=" in line and "knn5_holdout_escalated=" in line
    save_plot(tmp_path / "curve.png", out)
    assert (tmp_path / "curve.png").read_bytes().startswith(b"\x89PNG")
