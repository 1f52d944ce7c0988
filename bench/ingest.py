"""Ingest and query benchmark (issue 3).

Measures, in one run on this machine:

* ingest throughput of the demo world through the whole pipeline (scan, parse, chunk,
  embed, Chroma upsert, SQL catalog), in chunks/s, divided by the bundled embedder's
  raw throughput on the very same chunk texts (same batch size, same threads):
  ``ingest_ratio`` (1.0 = the pipeline costs nothing beyond embedding);
* re-ingest of the unchanged world: ``reingest_speedup`` = first ingest time / second;
* retrieval latency (query embedding + gated dense query + BM25 + fusion + re-check)
  with embedded Chroma at 1k and 100k chunks. The large corpora use precomputed
  vectors (embedding 100k passages would take hours on 2 cores) and synthetic texts,
  gated like the demo world: about 60% open to everyone, the rest behind 15 gate
  profiles, of which the asking NPC may see some. The query embedding alone is also
  timed, as the floor a search cannot go under.

Last line: ``ingest_ratio=... reingest_speedup=... query_p99_ms_1k=... query_p99_ms_100k=...``
Usage: ``python bench/ingest.py [--sizes 1000,100000] [--queries 200]``
"""

from __future__ import annotations

import argparse
import asyncio
import random
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
# the repository first; this folder off the path (run as a script it comes first, and its
# http.py would shadow the standard library's http package)
sys.path[:] = [str(ROOT), *(p for p in sys.path if Path(p or ".").resolve() != ROOT / "bench")]

from knowledge.catalog import CatalogChunk, IngestChanges, SourceChange  # noqa: E402
from knowledge.embedders.base import EmbedKind  # noqa: E402
from knowledge.embedders.e5 import E5Embedder  # noqa: E402
from knowledge.gating import OPEN_GATE, Asker, GateProfile  # noqa: E402
from knowledge.ingest import embedding_input  # noqa: E402
from knowledge.retrieval import KnowledgeBase  # noqa: E402
from knowledge.stores.chroma import ChromaVectorStore  # noqa: E402
from knowledge.types import VectorRecord  # noqa: E402
from npc_engine.engine import Engine  # noqa: E402
from npc_engine.settings import Settings  # noqa: E402
from npc_engine.state.store import SqlStateStore  # noqa: E402

WORLD = ROOT / "examples" / "demo_world"
WORDS = [
    "forge",
    "anvil",
    "ember",
    "river",
    "harbor",
    "crown",
    "tide",
    "silver",
    "wood",
    "ash",
    "circle",
    "vault",
    "key",
    "oath",
    "guild",
    "smith",
    "merchant",
    "captain",
    "watch",
    "tavern",
    "ale",
    "storm",
    "ship",
    "lantern",
    "rune",
    "spell",
    "queen",
    "king",
    "war",
    "peace",
    "treaty",
    "mine",
    "ore",
    "dragon",
    "bridge",
    "gate",
    "tower",
    "bell",
    "song",
    "feast",
    "winter",
    "summer",
    "north",
    "south",
    "east",
    "west",
]


def pct(values: list[float], q: float) -> float:
    return float(np.percentile(np.asarray(values), q))


async def _ingest_once(threads: int) -> tuple[float, float, int, list[tuple[str, EmbedKind]]]:
    data = Path(tempfile.mkdtemp(prefix="npc-bench-"))
    try:
        settings = Settings(data_dir=data, embed_threads=threads)
        engine = Engine.from_settings(settings)
        started = time.perf_counter()
        first = await engine.ingest(WORLD)
        t_first = time.perf_counter() - started
        started = time.perf_counter()
        second = await engine.ingest(WORLD)
        t_second = time.perf_counter() - started
        assert second.knowledge.chunks_embedded == 0, "re-ingest embedded something"
        inputs = [embedding_input(c) for c in await engine.state.load_chunks(settings.tenant)]
        engine.close()
        return t_first, t_second, first.knowledge.chunks_embedded, inputs
    finally:
        shutil.rmtree(data, ignore_errors=True)


async def _raw_once(threads: int, inputs: list[tuple[str, EmbedKind]]) -> float:
    raw = E5Embedder(threads=threads, batch_size=Settings().embed_batch)
    started = time.perf_counter()
    for mode in ("query", "document"):  # the very inputs ingest embedded, batched the same way
        await raw.embed([text for text, kind in inputs if kind == mode], kind=mode)
    raw.close()
    return time.perf_counter() - started


async def bench_ingest(threads: int, rounds: int) -> tuple[float, float]:
    """Alternate full ingests and raw embedding runs; the median ratio resists a noisy machine."""
    ratios, speedups = [], []
    for r in range(rounds):
        t_first, t_second, n, inputs = await _ingest_once(threads)
        t_raw = await _raw_once(threads, inputs)
        ratios.append((n / t_first) / (len(inputs) / t_raw))
        speedups.append(t_first / t_second)
        print(
            f"round {r + 1}: ingest {n} chunks in {t_first:.2f}s ({n / t_first:.1f}/s), "
            f"embedder alone {len(inputs) / t_raw:.1f}/s, ratio {ratios[-1]:.2f}; "
            f"re-ingest {t_second * 1000:.1f} ms (0 embedded), speed-up {speedups[-1]:.0f}x",
            flush=True,
        )
    return statistics.median(ratios), statistics.median(speedups)


async def bench_query(size: int, queries: int, embedder: E5Embedder) -> tuple[float, float]:
    rng = random.Random(size)
    nrng = np.random.default_rng(size)
    data = Path(tempfile.mkdtemp(prefix="npc-bench-q-"))
    try:
        state = SqlStateStore(f"sqlite:///{data / 'state.db'}")
        vectors = ChromaVectorStore(path=data / "chroma")
        kb = KnowledgeBase(tenant="bench", embedder=embedder, vectors=vectors, catalog=state)
        # the demo world's shape: about 60% of lore open to everyone, the rest behind 15 gates
        gates = [OPEN_GATE] + [
            GateProfile(
                everyone=(g % 3 == 0), factions=(f"f{g % 5}",), requires_flags=(f"flag{g}",) if g % 2 else ()
            )
            for g in range(1, 16)
        ]
        # real embeddings for a few hundred anchors; the rest are noisy copies (precomputed vectors)
        anchors_text = [" ".join(rng.choices(WORDS, k=30)) for _ in range(200)]
        anchors = await embedder.embed(anchors_text, kind="document")
        chunks, records = [], []
        for i in range(size):
            a = i % len(anchors_text)
            text = f"{anchors_text[a]} {' '.join(rng.choices(WORDS, k=10))} item{i}"
            vec = anchors[a] + nrng.normal(0, 0.02, size=(anchors.shape[1],)).astype(np.float32)
            vec /= np.linalg.norm(vec)
            gate = OPEN_GATE if rng.random() < 0.6 else gates[1 + i % 15]
            meta: dict[str, str | int | float | bool] = {
                "tenant": "bench",
                "kind": "lore",
                "source_id": f"lore:d{i}",
                "gate_id": gate.gate_id,
            }
            chunks.append(
                CatalogChunk(f"lore:d{i}#0", f"lore:d{i}", "lore", 0, f"d{i}", text, gate.gate_id, meta)
            )
            records.append(VectorRecord(f"lore:d{i}#0", vec.tolist(), text, meta))
        started = time.perf_counter()
        partitions: dict[str, list[VectorRecord]] = {}
        for record in records:
            partitions.setdefault(kb.collection_for("lore", str(record.metadata["gate_id"])), []).append(
                record
            )
        for name, part in partitions.items():
            await vectors.upsert(name, part)
        await state.apply_ingest(
            "bench",
            IngestChanges(
                root="bench", upserts=[SourceChange("bench", "lore", "x", tuple(chunks))], gates=gates
            ),
        )
        await kb.snapshot()
        print(f"{size} chunks loaded in {time.perf_counter() - started:.1f}s", flush=True)
        asker = Asker("npc", factions=frozenset({"f1", "f2"}), flags=frozenset({"flag1", "flag2", "flag5"}))
        qs = [" ".join(rng.choices(WORDS, k=8)) for _ in range(queries)]
        for q in qs[:10]:  # warm-up
            await kb.search(q, asker=asker)
        latencies = []
        for q in qs:
            t = time.perf_counter()
            await kb.search(q, asker=asker)
            latencies.append((time.perf_counter() - t) * 1000)
        embed_only = []
        for q in qs:
            t = time.perf_counter()
            await embedder.embed([q], kind="query")
            embed_only.append((time.perf_counter() - t) * 1000)
        p50, p99 = statistics.median(latencies), pct(latencies, 99)
        print(
            f"query at {size} chunks: p50 {p50:.1f} ms, p99 {p99:.1f} ms ({queries} queries); "
            f"query embedding alone p50 {statistics.median(embed_only):.1f} ms"
        )
        vectors.close()
        state.close()
        return p50, p99
    finally:
        shutil.rmtree(data, ignore_errors=True)


def label(size: int) -> str:
    return f"{size // 1000}k" if size % 1000 == 0 else str(size)


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="1000,100000")
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--threads", type=int, default=0, help="embedder threads for ingest (0 = all cores)")
    parser.add_argument("--rounds", type=int, default=3, help="ingest/raw rounds (median reported)")
    args = parser.parse_args()
    ratio, speedup = await bench_ingest(args.threads, args.rounds)
    query_embedder = E5Embedder(threads=1)
    summary = {"ingest_ratio": f"{ratio:.2f}", "reingest_speedup": f"{speedup:.0f}"}
    for size in [int(s) for s in args.sizes.split(",") if s]:
        p50, p99 = await bench_query(size, args.queries, query_embedder)
        summary[f"query_p50_ms_{label(size)}"] = f"{p50:.1f}"
        summary[f"query_p99_ms_{label(size)}"] = f"{p99:.1f}"
    print(" ".join(f"{k}={v}" for k, v in summary.items()))


if __name__ == "__main__":
    from npc_engine.logging import configure_logging

    configure_logging("WARNING")
    asyncio.run(main())
