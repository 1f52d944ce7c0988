"""Shared by the benchmarks that turn a ``text,category`` data set (BANKING77) into a support world.

A world here is one support persona, FAQ entries (``faq/intents.yaml``) and resolved
tickets (``tickets/train.jsonl``), written as the engine's own file formats so that the
benchmarks go through the real ingest pipeline. Each benchmark decides what its FAQ
entries and tickets say; these helpers only read rows and write files.
"""

from __future__ import annotations

import csv
import itertools
import json
import re
from collections.abc import Iterable, Sequence
from pathlib import Path

import yaml

__all__ = ["central_texts", "faq_id", "humanise", "read_rows", "write_support_world"]

_WORD = re.compile(r"[a-z0-9']+")


def read_rows(path: Path) -> list[dict[str, str]]:
    """Rows of a CSV with at least ``text`` and ``category`` columns."""
    with path.open(encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    if rows and not {"text", "category"} <= rows[0].keys():
        raise SystemExit(f"{path}: expected columns text,category; found {', '.join(rows[0])}")
    return rows


def humanise(category: str) -> str:
    """``card_arrival`` -> ``Card arrival``."""
    return category.replace("_", " ").strip().capitalize()


def faq_id(category: str) -> str:
    return "faq-" + re.sub(r"[^A-Za-z0-9_.-]", "-", category)


def central_texts(texts: Sequence[str], n: int = 2) -> list[str]:
    """The ``n`` most typical texts: highest mean word-set (Jaccard) overlap with the others.

    Lexical, so that a world can be written before anything is embedded.
    """
    words = [frozenset(_WORD.findall(t.lower())) for t in texts]
    score = [0.0] * len(texts)
    for i, j in itertools.combinations(range(len(texts)), 2):
        union = len(words[i] | words[j])
        overlap = len(words[i] & words[j]) / union if union else 0.0
        score[i] += overlap
        score[j] += overlap
    order = sorted(range(len(texts)), key=lambda i: (-score[i], texts[i]))
    return [texts[i] for i in order[:n]]


def write_support_world(
    root: Path,
    *,
    categories: Sequence[str],
    faq: Sequence[dict[str, str]],
    tickets: Iterable[dict[str, str]],
    persona_id: str = "bank",
) -> int:
    """Write a support world under ``root`` (created); returns the number of tickets written."""
    (root / "personas").mkdir(parents=True)
    (root / "faq").mkdir()
    (root / "tickets").mkdir()
    persona = {"kind": "support", "id": persona_id, "name": "Bank support", "categories": list(categories)}
    (root / "personas" / f"{persona_id}.yaml").write_text(yaml.safe_dump(persona), encoding="utf-8")
    (root / "faq" / "intents.yaml").write_text(
        yaml.safe_dump(list(faq), allow_unicode=True), encoding="utf-8"
    )
    count = 0
    with (root / "tickets" / "train.jsonl").open("w", encoding="utf-8") as out:
        for ticket in tickets:
            out.write(json.dumps(ticket, ensure_ascii=False) + "\n")
            count += 1
    return count
