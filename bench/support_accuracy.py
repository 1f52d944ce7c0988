"""Support answer-or-escalate benchmark (issue 5): grounding accuracy against coverage.

Data: any ``text,category`` CSVs; default BANKING77 (``../shared/eval/banking77``, CC BY 4.0).
The knowledge base is written from the TRAIN rows only (helpers in ``bench/_banking.py``):

- one FAQ entry per category: question = the category name humanised ("Card arrival?"),
  answer = "Typical questions: ..." quoting the category's two most typical train
  questions (highest word overlap with the others; lexical, so nothing is embedded first);
- one resolved ticket per train row: question = the text, resolution = "Resolved by
  support staff under '<category humanised>'.", category;
- ``--holdout-intents N`` categories (drawn with ``--seed``) get neither: their questions
  are ones the knowledge base cannot support.

The world is ingested through the real pipeline (``Engine``, bundled e5, Chroma, BM25) in
a temporary data dir, and every test row is one ``Engine.support_turn`` by its own player:
the support search, the engine's own calibration (:mod:`npc_engine.support.calibration`:
category statistics and the confidence model fit by leave-one-out over the *ingested
tickets*, train rows only), the escalation triggers, then an answer citing a source or a
ticket. The reply's ``category``, ``confidence`` and ``answered`` are scored. The bench
also fits the model itself from the vectors ingest computed (the same fit) to print it.

Scoring. *Supported* rows: test rows whose category has knowledge; *unsupported*: the
held-out intents' rows and any category absent from train. For a threshold: coverage =
share of supported rows answered; accuracy = share of answered supported rows whose cited
category is gold; holdout_escalated = share of unsupported rows escalated;
escalation_rate = share of all rows escalated; precision_all = answered rows that are
right over all answered rows (an answered unsupported row counts as wrong).

Operating points, both printed:
1. the support turn's own decisions, at the threshold fitted on TRAIN data (85% coverage of
   the leave-one-out train tickets), triggers included. The last line's ``accuracy=
   coverage= holdout_escalated=`` are these.
2. the smallest threshold reaching coverage >= 0.85 on the test rows (``at85_*``): a
   reading of the curve, which looks at test labels, so not a deployable setting.

Baseline in the same run (``knn5_*``, at its own smallest threshold reaching coverage
>= 0.85): a plain 5-nearest-neighbour vote over the same ticket and FAQ vectors (exact
cosine), confidence = votes / 5, ties broken by the winner's mean similarity.

Usage: ``python bench/support_accuracy.py [--train CSV --test CSV] [--holdout-intents 10]
[--seed 0] [--limit N] [--plot PATH] [--threads N]``. The curve is saved as a PNG (a
small zlib writer below: matplotlib is not a dependency).

Measured with the defaults (BANKING77, seed 0, every test row an ``Engine.support_turn``
on a shared 2-core machine: 930 s, of which ingest 408 s, support turns 475 s): at 85%
coverage accuracy 0.977 and holdout_escalated 0.820 (5-NN in the same run: 0.974 and
0.743); the turn's own decisions at the train-fitted threshold: accuracy=0.977
coverage=0.847 holdout_escalated=0.812 (12 supported rows escalated by triggers).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import shutil
import struct
import sys
import tempfile
import time
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
# the repository first; this folder off the path (run as a script it comes first, and its
# http.py would shadow the standard library's http package)
sys.path[:] = [str(ROOT), *(p for p in sys.path if Path(p or ".").resolve() != ROOT / "bench")]

from bench._banking import central_texts, faq_id, humanise, read_rows, write_support_world  # noqa: E402
from knowledge.embedders.base import Embedder, EmbedKind  # noqa: E402
from npc_engine.backends import make_embedder, make_state_store, make_vector_store  # noqa: E402
from npc_engine.engine import Engine  # noqa: E402
from npc_engine.settings import Settings  # noqa: E402
from npc_engine.support.confidence import CategoryStats, ConfidenceModel, fit_model  # noqa: E402

DEFAULT_DATA = ROOT.parent / "shared" / "eval" / "banking77"
CANDIDATES = 40  # ticket hits per question (dense candidates; BM25 adds its own)
FAQ_K = 5  # FAQ hits per question, searched on their own
PERSONA = "bank"  # the support persona write_support_world creates
TARGET = 0.85


class RecordingEmbedder:
    """Passes calls through and keeps every vector by (kind, text), so ingest's work is reused."""

    def __init__(self, inner: Embedder) -> None:
        self.inner, self.id, self.dim = inner, inner.id, inner.dim
        self.seen: dict[tuple[str, str], np.ndarray] = {}

    async def embed(self, texts: Sequence[str], *, kind: EmbedKind) -> np.ndarray:
        out = await self.inner.embed(texts, kind=kind)
        self.seen.update(((kind, t), v) for t, v in zip(texts, out, strict=True))
        return out

    def vectors(self, texts: Sequence[str]) -> np.ndarray:
        return np.vstack([self.seen["query", t] for t in texts]) if texts else np.zeros((0, self.dim))


@dataclass
class Result:
    train_point: dict[str, float]  # at the threshold chosen on train
    at85: dict[str, float]  # at the smallest threshold with test coverage >= 0.85
    knn5: dict[str, float]  # the 5-NN baseline, same rule
    curve: list[dict[str, float]]  # one point per distinct confidence, best first
    knn5_curve: list[dict[str, float]]
    top1: float
    knn5_top1: float
    ece: float  # expected calibration error on supported rows (10 bins)
    supported: int
    unsupported: int
    held_out: list[str]
    model: ConfidenceModel
    seconds: dict[str, float]


def build_world(
    root: Path, train: Sequence[dict[str, str]], held_out: set[str]
) -> tuple[list[dict[str, str]], list[dict[str, str]]]:
    """Write the support world from train rows minus ``held_out``; returns (faq, tickets)."""
    by_category: dict[str, list[str]] = {}
    for row in train:
        if row["category"] not in held_out:
            by_category.setdefault(row["category"], []).append(row["text"])
    faq = [
        {
            "id": faq_id(c),
            "question": humanise(c) + "?",
            "answer": "Typical questions: " + " ".join(f"«{t.strip()}»" for t in central_texts(texts)),
            "category": c,
        }
        for c, texts in by_category.items()
    ]
    tickets = [
        {
            "id": f"T{i}",
            "question": row["text"].strip(),
            "resolution": f"Resolved by support staff under '{humanise(row['category'])}'.",
            "category": row["category"],
        }
        for i, row in enumerate(train)
        if row["category"] not in held_out and row["text"].strip()
    ]
    write_support_world(root, categories=list(by_category), faq=faq, tickets=tickets)
    return faq, tickets


def operating_point(
    conf: np.ndarray, correct: np.ndarray, supported: np.ndarray, t: float
) -> dict[str, float]:
    answered = conf >= t
    hits = answered & supported
    return {
        "threshold": t,
        "coverage": hits.sum() / max(supported.sum(), 1),
        "accuracy": (correct & hits).sum() / max(hits.sum(), 1),
        "holdout_escalated": (~answered & ~supported).sum() / max((~supported).sum(), 1),
        "escalation_rate": 1 - answered.mean(),
        "precision_all": (correct & answered).sum() / max(answered.sum(), 1),
    }


def decisions(answered: np.ndarray, correct: np.ndarray, supported: np.ndarray) -> dict[str, float]:
    """The support turn's own decisions (answered or escalated), scored like an operating point."""
    hits = answered & supported
    return {
        "coverage": hits.sum() / max(supported.sum(), 1),
        "accuracy": (correct & hits).sum() / max(hits.sum(), 1),
        "holdout_escalated": (~answered & ~supported).sum() / max((~supported).sum(), 1),
        "escalation_rate": 1 - answered.mean(),
        "precision_all": (correct & answered).sum() / max(answered.sum(), 1),
    }


def threshold_for(conf: np.ndarray, supported: np.ndarray, coverage: float) -> float:
    """The smallest threshold answering at least ``coverage`` of the supported rows."""
    ranked = np.sort(conf[supported])[::-1]
    return float(ranked[max(0, math.ceil(coverage * len(ranked)) - 1)])


def curve(conf: np.ndarray, correct: np.ndarray, supported: np.ndarray) -> list[dict[str, float]]:
    return [operating_point(conf, correct, supported, float(t)) for t in np.unique(conf)[::-1]]


def knn5(
    queries: np.ndarray, kb_vectors: np.ndarray, kb_labels: Sequence[str]
) -> tuple[list[str], np.ndarray]:
    labels, conf = [], np.zeros(len(queries))
    for start in range(0, len(queries), 512):
        sims = queries[start : start + 512] @ kb_vectors.T
        top = np.argsort(-sims, axis=1)[:, :5]
        for i, row in enumerate(top):
            votes: dict[str, list[float]] = {}
            for j in row:
                votes.setdefault(kb_labels[j], []).append(float(sims[i, j]))
            best = max(votes, key=lambda c: (len(votes[c]), sum(votes[c])))
            labels.append(best)
            conf[start + i] = len(votes[best]) / 5 + 0.01 * float(np.mean(votes[best]))
    return labels, conf


def calibration_error(conf: np.ndarray, correct: np.ndarray) -> float:
    bins = np.minimum((conf * 10).astype(int), 9)
    return float(
        sum(
            abs(conf[bins == b].mean() - correct[bins == b].mean()) * (bins == b).sum()
            for b in np.unique(bins)
        )
        / max(len(conf), 1)
    )


async def run(
    train: Sequence[dict[str, str]],
    test: Sequence[dict[str, str]],
    *,
    settings: Settings,
    holdout: int = 10,
    seed: int = 0,
    verbose: bool = True,
) -> Result:
    """Build the world, ingest, fit, decide every test row, score (see the module docstring)."""
    say = print if verbose else (lambda *_a, **_k: None)
    started = time.perf_counter()
    train_categories = list(dict.fromkeys(r["category"] for r in train))
    rng = np.random.default_rng(seed)
    held_out = {train_categories[i] for i in rng.choice(len(train_categories), holdout, replace=False)}
    work = Path(tempfile.mkdtemp(prefix="npc-support-"))
    (work / "data").mkdir()
    settings = settings.model_copy(update={"data_dir": work / "data"})
    embedder = RecordingEmbedder(make_embedder(settings))
    engine = Engine(
        settings=settings,
        state=make_state_store(settings),
        embedder=embedder,
        vectors=make_vector_store(settings),
    )
    try:
        faq, tickets = build_world(work / "world", train, held_out)
        result = await engine.ingest(work / "world")
        seconds = {"ingest": time.perf_counter() - started}
        say(f"held out ({len(held_out)}): {', '.join(sorted(held_out))}")
        say(
            f"ingested {len(faq)} FAQ entries, {len(tickets)} tickets: {result.knowledge.chunks_embedded} chunks"
        )

        mark = time.perf_counter()
        ticket_vectors = embedder.vectors([t["question"] for t in tickets])
        faq_vectors = embedder.vectors([f["question"] for f in faq])
        ticket_labels = [t["category"] for t in tickets]
        stats = CategoryStats.from_vectors(ticket_vectors, ticket_labels)
        model = fit_model(
            ticket_vectors, ticket_labels, faq_vectors, [f["category"] for f in faq], stats=stats
        )
        seconds["fit"] = time.perf_counter() - mark
        say("model=" + json.dumps(model.as_dict()))

        mark = time.perf_counter()
        vectors = np.asarray(await embedder.inner.embed([r["text"] for r in test], kind="query"))
        seconds["embed_test"] = time.perf_counter() - mark
        mark = time.perf_counter()
        # every test row is one support turn by its own player: retrieval, the engine's own
        # calibration (fit on the ingested tickets), the triggers, the answer or the ticket
        predicted, conf = [], np.zeros(len(test))
        answered = np.zeros(len(test), dtype=bool)
        reasons: dict[str, int] = {}
        for i, row in enumerate(test):
            reply = await engine.support_turn(PERSONA, f"row-{i}", row["text"], locale="en")
            predicted.append(reply.category)
            conf[i], answered[i] = reply.confidence, reply.answered
            if reply.reason:
                reasons[reply.reason] = reasons.get(reply.reason, 0) + 1
        seconds["support_turns"] = time.perf_counter() - mark
        say("escalation reasons: " + json.dumps(reasons, sort_keys=True))
    finally:
        engine.close()
        shutil.rmtree(work, ignore_errors=True)

    gold = [r["category"] for r in test]
    known = set(ticket_labels)
    supported = np.array([g in known for g in gold])
    correct = np.array([p == g for p, g in zip(predicted, gold, strict=True)])
    base_labels, base_conf = knn5(
        vectors, np.vstack([ticket_vectors, faq_vectors]), ticket_labels + [f["category"] for f in faq]
    )
    base_correct = np.array([p == g for p, g in zip(base_labels, gold, strict=True)])
    seconds["total"] = time.perf_counter() - started
    return Result(
        train_point=decisions(answered, correct, supported),
        at85=operating_point(conf, correct, supported, threshold_for(conf, supported, TARGET)),
        knn5=operating_point(base_conf, base_correct, supported, threshold_for(base_conf, supported, TARGET)),
        curve=curve(conf, correct, supported),
        knn5_curve=curve(base_conf, base_correct, supported),
        top1=float(correct[supported].mean()) if supported.any() else 0.0,
        knn5_top1=float(base_correct[supported].mean()) if supported.any() else 0.0,
        ece=calibration_error(conf[supported], correct[supported]),
        supported=int(supported.sum()),
        unsupported=int((~supported).sum()),
        held_out=sorted(held_out),
        model=model,
        seconds=seconds,
    )


def print_report(out: Result) -> str:
    """Print the curve and the operating points; returns the last line."""
    print(f"\nrows: {out.supported} supported, {out.unsupported} unsupported (held out or unseen)")
    print(
        f"top-1 category on supported rows: engine {out.top1:.3f}, 5-NN {out.knn5_top1:.3f}; ece={out.ece:.3f}"
    )
    print("curve (engine)  threshold  coverage  accuracy  holdout_escalated  escalation_rate")
    for t in [0.0, 0.2, 0.4, 0.5, 0.6, 0.65, 0.7, 0.75, 0.8, 0.85, 0.9, 0.95]:
        point = next((r for r in out.curve[::-1] if r["threshold"] >= t), None)
        if point:
            print(
                f"  >= {t:4.2f}       {point['threshold']:9.3f}  {point['coverage']:8.3f}  {point['accuracy']:8.3f}"
                f"  {point['holdout_escalated']:17.3f}  {point['escalation_rate']:15.3f}"
            )
    for label, p in [
        ("the support turn's own decisions (threshold fitted on train)", out.train_point),
        ("smallest threshold with test coverage >= 0.85", out.at85),
        ("5-NN vote baseline, test coverage >= 0.85", out.knn5),
    ]:
        print(f"{label}: " + " ".join(f"{k}={v:.3f}" for k, v in p.items()))
    print("seconds: " + " ".join(f"{k}={v:.0f}" for k, v in out.seconds.items()))
    figures = {
        **{k: out.train_point[k] for k in ("accuracy", "coverage", "holdout_escalated", "escalation_rate")},
        "threshold": out.model.threshold,
        **{f"at85_{k}": out.at85[k] for k in ("accuracy", "coverage", "holdout_escalated", "threshold")},
        **{f"knn5_{k}": out.knn5[k] for k in ("accuracy", "coverage", "holdout_escalated")},
        "top1": out.top1,
        "knn5_top1": out.knn5_top1,
        "ece": out.ece,
    }
    return " ".join(f"{k}={v:.3f}" for k, v in figures.items())


# -- a PNG without matplotlib: two panels, coverage on x ------------------------------------------------
_GLYPHS = {  # 3x5 pixel glyphs, rows top to bottom
    "0": "111101101101111", "1": "010110010010111", "2": "111001111100111", "3": "111001111001111",
    "4": "101101111001001", "5": "111100111001111", "6": "111100111101111", "7": "111001010010010",
    "8": "111101111101111", "9": "111101111001111", ".": "000000000000010", "-": "000000111000000",
    " ": "000000000000000", "A": "010101111101101", "C": "011100100100011", "D": "110101101101110",
    "E": "111100110100111", "G": "011100101101011", "H": "101101111101101", "I": "111010010010111",
    "K": "101101110101101", "L": "100100100100111", "N": "101111111111101", "B": "110101110101110", "O": "010101101101010",
    "P": "110101110100100", "R": "110101110101101", "S": "011100010001110", "T": "111010010010010",
    "U": "101101101101111", "V": "101101101101010", "Y": "101101010010010", "X": "101101010101101",
}  # fmt: skip


def _text(img: np.ndarray, x: int, y: int, text: str, color: tuple[int, int, int], scale: int = 2) -> None:
    for ch in text.upper():
        glyph = _GLYPHS.get(ch, _GLYPHS[" "])
        for k, bit in enumerate(glyph):
            if bit == "1":
                r, c = divmod(k, 3)
                img[y + r * scale : y + (r + 1) * scale, x + c * scale : x + (c + 1) * scale] = color
        x += 4 * scale


def _line(img: np.ndarray, xs: np.ndarray, ys: np.ndarray, color: tuple[int, int, int]) -> None:
    for x0, y0, x1, y1 in zip(xs[:-1], ys[:-1], xs[1:], ys[1:], strict=True):
        n = int(max(abs(x1 - x0), abs(y1 - y0))) + 1
        px, py = np.linspace(x0, x1, n).round().astype(int), np.linspace(y0, y1, n).round().astype(int)
        for dx in (0, 1):
            img[np.clip(py, 0, img.shape[0] - 1), np.clip(px + dx, 0, img.shape[1] - 1)] = color


def save_plot(path: Path, out: Result) -> None:
    """Left: accuracy vs coverage (0.8-1.0); right: held-out escalated vs coverage (0-1). Blue: engine, grey: 5-NN."""
    width, height, pad = 1000, 440, 60
    img = np.full((height, width, 3), 255, dtype=np.uint8)
    panels = [
        ("accuracy", 0.8, 1.0, "ACCURACY VS COVERAGE"),
        ("holdout_escalated", 0.0, 1.0, "HELD-OUT ESCALATED"),
    ]
    pw = (width - 3 * pad) // 2
    for n, (key, lo, hi, title) in enumerate(panels):
        x0, y0, ph = pad + n * (pw + pad), pad, height - 2 * pad
        for i in range(6):
            gx, gy = int(x0 + i * pw / 5), int(y0 + i * ph / 5)
            img[y0 : y0 + ph, gx] = 225
            img[gy, x0 : x0 + pw] = 225
            _text(img, gx - 10, y0 + ph + 8, f"{i / 5:.1f}", (0, 0, 0))
            _text(img, x0 - 44, gy - 5, f"{hi - i * (hi - lo) / 5:.2f}", (0, 0, 0))
        img[y0 : y0 + ph, int(x0 + TARGET * pw)] = (220, 60, 60)
        _text(img, x0, y0 - 30, title, (0, 0, 0))
        for rows, color in ((out.knn5_curve, (150, 150, 150)), (out.curve, (30, 90, 200))):
            xs = x0 + np.array([r["coverage"] for r in rows]) * pw
            ys = y0 + ph - (np.clip([r[key] for r in rows], lo, hi) - lo) / (hi - lo) * ph
            _line(img, xs, ys, color)
    _text(img, pad, height - 22, "X COVERAGE   BLUE ENGINE   GREY 5-NN VOTE   RED 0.85", (0, 0, 0))
    raw = b"".join(b"\x00" + img[r].tobytes() for r in range(height))

    def chunk(tag: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + tag + data + struct.pack(">I", zlib.crc32(tag + data) & 0xFFFFFFFF)
        )

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    path.write_bytes(
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(raw, 9))
        + chunk(b"IEND", b"")
    )


async def main() -> None:
    parser = argparse.ArgumentParser(description="support answer-or-escalate accuracy")
    parser.add_argument("--train", type=Path, default=DEFAULT_DATA / "train.csv")
    parser.add_argument("--test", type=Path, default=DEFAULT_DATA / "test.csv")
    parser.add_argument("--holdout-intents", type=int, default=10)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--limit", type=int, default=None, help="use N test rows (evenly spread)")
    parser.add_argument("--plot", type=Path, default=Path(tempfile.gettempdir()) / "npc-support-accuracy.png")
    parser.add_argument("--threads", type=int, default=None, help="embedder threads (default: all cores)")
    args = parser.parse_args()
    if not args.train.is_file() or not args.test.is_file():
        print(f"support accuracy: skipped, no data at {args.train} / {args.test}")
        return
    train, test = read_rows(args.train), read_rows(args.test)
    if args.limit:
        test = test[:: max(1, len(test) // args.limit)][: args.limit]
    settings = Settings(tenant="support-bench")
    if args.threads is not None:
        settings = settings.model_copy(update={"embed_threads": args.threads})
    out = await run(train, test, settings=settings, holdout=args.holdout_intents, seed=args.seed)
    line = print_report(out)
    save_plot(args.plot, out)
    print(f"plot: {args.plot}")
    print(line)


if __name__ == "__main__":
    from npc_engine.logging import configure_logging

    configure_logging("WARNING")
    asyncio.run(main())
