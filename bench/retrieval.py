"""Retrieval quality benchmark (issue 3).

1. The demo world's question file (``examples/demo_world/questions.yaml``): each question
   is asked of its persona with its flags and stage (gating applies) through
   ``Engine.search``; a question is found when one of its expected sources is in the top
   5 distinct sources. Prints recall@5, MRR, and the same for the cross-lingual subset
   (questions not in English).
2. BANKING77 (``../shared/eval/banking77``, CC BY 4.0), mapped as in its README: one FAQ
   entry per intent written from the intent name, the 10,003 training queries as resolved
   tickets (with one generic resolution text, so no label words leak into BM25), the 3,080
   test queries as new player questions. Everything goes through the real pipeline
   (ingest, e5, Chroma, BM25, fusion). Predicted intent = the winner of
   ``knowledge.vote.category_scores`` over the top 10 hits. Baselines in the same run,
   from the same vectors: the category of the single best dense hit, and a plain
   5-nearest-neighbour vote.

Last line: ``recall@5=... mrr=... banking77_top1=...`` (plus baselines).
Usage: ``python bench/retrieval.py [--banking77 DIR] [--limit N] [--skip-banking77]``
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import json
import shutil
import sys
import tempfile
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
# the repository first; this folder off the path (run as a script it comes first, and its
# http.py would shadow the standard library's http package)
sys.path[:] = [str(ROOT), *(p for p in sys.path if Path(p or ".").resolve() != ROOT / "bench")]

from bench._banking import faq_id, humanise, read_rows, write_support_world  # noqa: E402
from knowledge.retrieval import KnowledgeBase  # noqa: E402
from knowledge.vote import category_scores  # noqa: E402
from npc_engine.engine import Engine  # noqa: E402
from npc_engine.settings import Settings  # noqa: E402

WORLD = ROOT / "examples" / "demo_world"
DEFAULT_B77 = ROOT.parent / "shared" / "eval" / "banking77"


def _is_english(text: str) -> bool:
    return all(ord(ch) < 0x250 for ch in text)


async def demo_questions(engine: Engine) -> dict[str, float]:
    questions = yaml.safe_load((WORLD / "questions.yaml").read_text(encoding="utf-8"))
    found = rr = 0.0
    xl_found = xl_total = 0
    misses = []
    for q in questions:
        hits = await engine.search(
            q["question"], persona_id=q["persona"], flags=q.get("flags") or [], stage=q.get("stage"), k=5
        )
        ranked = [h.source_id for h in hits]
        expected = set(q["expected"])
        rank = next((i for i, s in enumerate(ranked, 1) if s in expected), None)
        if rank:
            found += 1
            rr += 1 / rank
        else:
            misses.append(f"{q['id']} ({q['persona']}): {q['question'][:70]!r} -> {ranked[:3]}")
        if not _is_english(q["question"]):
            xl_total += 1
            xl_found += bool(rank)
    n = len(questions)
    print(f"demo questions: {n} ({xl_total} cross-lingual)")
    for miss in misses:
        print(f"  miss: {miss}")
    result = {"recall@5": found / n, "mrr": rr / n, "xl_recall@5": xl_found / max(xl_total, 1)}
    print("  " + "  ".join(f"{k}={v:.3f}" for k, v in result.items()))
    return result


def _b77_world(root: Path, b77: Path) -> tuple[list[dict[str, str]], list[str]]:
    cats = json.loads((b77 / "categories.json").read_text())
    faq = [
        {
            "id": faq_id(c),
            "question": humanise(c) + "?",
            "answer": f"Help with {c.replace('_', ' ')}.",
            "category": c,
        }
        for c in cats
    ]
    tickets = (
        {
            "id": f"T{i}",
            "question": row["text"],
            "resolution": "Answered by support staff.",
            "category": row["category"],
        }
        for i, row in enumerate(read_rows(b77 / "train.csv"))
    )
    write_support_world(root, categories=cats, faq=faq, tickets=tickets)
    return read_rows(b77 / "test.csv"), cats


async def banking77(b77: Path, limit: int | None) -> dict[str, float]:
    work = Path(tempfile.mkdtemp(prefix="npc-b77-"))
    try:
        test, _cats = _b77_world(work / "world", b77)
        if limit:
            test = test[:: max(1, len(test) // limit)][:limit]
        engine = Engine.from_settings(Settings(data_dir=work / "data", tenant="banking77"))
        started = time.perf_counter()
        result = await engine.ingest(work / "world")
        print(
            f"banking77: ingested {result.knowledge.chunks_embedded} chunks in {time.perf_counter() - started:.0f}s"
        )
        kb: KnowledgeBase = engine.knowledge()
        dense_only = KnowledgeBase(
            tenant="banking77",
            embedder=engine.embedder,
            vectors=engine.vectors,
            catalog=engine.state,
            lexical_weight=0.0,
        )
        started = time.perf_counter()
        vectors = await engine.embedder.embed([r["text"] for r in test], kind="query")
        correct: collections.Counter[str] = collections.Counter()
        for row, vector in zip(test, vectors, strict=True):
            gold = row["category"]
            hits = await kb.search(row["text"], kinds=("faq", "ticket"), k=10, query_vector=vector)
            scores = category_scores(hits)
            correct["vote"] += bool(scores) and next(iter(scores)) == gold
            plain = await dense_only.search(row["text"], kinds=("faq", "ticket"), k=5, query_vector=vector)
            correct["1nn"] += bool(plain) and plain[0].metadata.get("category") == gold
            votes = collections.Counter(h.metadata.get("category") for h in plain)
            correct["5nn"] += bool(votes) and votes.most_common(1)[0][0] == gold
        n = len(test)
        print(f"banking77: {n} test queries in {time.perf_counter() - started:.0f}s")
        out = {
            "banking77_top1": correct["vote"] / n,
            "b77_1nn": correct["1nn"] / n,
            "b77_5nn_vote": correct["5nn"] / n,
        }
        print("  " + "  ".join(f"{k}={v:.4f}" for k, v in out.items()))
        engine.close()
        return out
    finally:
        shutil.rmtree(work, ignore_errors=True)


async def main() -> None:
    parser = argparse.ArgumentParser(description="retrieval quality")
    parser.add_argument("--banking77", type=Path, default=DEFAULT_B77)
    parser.add_argument("--limit", type=int, default=None, help="use N test queries (evenly spread)")
    parser.add_argument("--skip-banking77", action="store_true")
    args = parser.parse_args()
    data = Path(tempfile.mkdtemp(prefix="npc-bench-r-"))
    try:
        engine = Engine.from_settings(Settings(data_dir=data))
        await engine.ingest(WORLD)
        summary = await demo_questions(engine)
        engine.close()
    finally:
        shutil.rmtree(data, ignore_errors=True)
    if args.skip_banking77:
        print("banking77: skipped (--skip-banking77)")
    elif not (args.banking77 / "train.csv").is_file():
        print(f"banking77: skipped, no data at {args.banking77} (the shared eval folder is absent)")
    else:
        summary.update(await banking77(args.banking77, args.limit))
    print(" ".join(f"{k}={v:.4f}" for k, v in summary.items()))


if __name__ == "__main__":
    from npc_engine.logging import configure_logging

    configure_logging("WARNING")
    asyncio.run(main())
