"""Hybrid, gated retrieval over one tenant's knowledge.

``search`` runs dense search (the embedder + the vector store, with the gating filter
inside the query) and BM25 (masked by the same gate), fuses the two rankings by
reciprocal rank, re-checks every result against the catalog and its gate, and
returns the best ``k``. The catalog snapshot (chunk texts, gates, the BM25 index) is
cached per worker and rebuilt when the tenant's catalog revision moves.

Small partitions (at most ``exact_max`` vectors each, ``exact_budget`` in all per
tenant) are read back from the vector store once per catalog revision and searched
exactly in memory with numpy: a game world's lore is split into many small gate
partitions, and one matrix product each is faster than one vector-store round trip
each (the NPC turn benchmark measures it). Large partitions are queried in the store.
A partition is read only when an asker allowed to see it first searches it.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Awaitable, Sequence
from dataclasses import dataclass

import numpy as np
import structlog

from knowledge.catalog import Catalog, CatalogChunk
from knowledge.embedders.base import Embedder
from knowledge.gating import OPEN_GATE, Asker, GateProfile, allowed_gate_ids
from knowledge.lexical import LexicalIndex
from knowledge.stores.base import VectorStore
from knowledge.types import KINDS, Kind, MetadataFilter, Retrieval, SearchHit
from npc_engine.errors import BackendError, EmbedderError, InvalidInputError, VectorStoreError

__all__ = ["KnowledgeBase", "partition_name"]

log = structlog.get_logger("npc_engine.knowledge")

RRF_K = 60
_UNAVAILABLE: dict[type[BackendError], str] = {
    VectorStoreError: "vector store unavailable",
    EmbedderError: "embedder unavailable",
}


def partition_name(tenant: str, embedder_id: str, kind: Kind, gate_id: str) -> str:
    """The vector collection holding a chunk.

    Per (tenant, embedder): vectors of two tenants or two models never mix. Lore is
    further partitioned by gate profile, so the gate is applied *by choice of
    partition*: a search opens only the partitions its asker may see, gated vectors are
    never even scored, and no metadata filter has to scan the collection (Chroma's
    filtered search costs about 5 µs per matching record, 0.5 s at 100k; an unfiltered
    HNSW query is about 3 ms at any size). FAQ entries and tickets share one partition.
    """
    group = f"lore-{gate_id}" if kind == "lore" else "support"
    return f"kb-{tenant}-{embedder_id}-{group}".replace("_", "-")


@dataclass(slots=True)
class _Snapshot:
    revision: int
    chunks: list[CatalogChunk]
    by_id: dict[str, int]
    kind_codes: np.ndarray  # int8 index into KINDS, per chunk
    gate_codes: np.ndarray  # int32 index into gate_ids, per chunk
    gate_ids: list[str]
    lore_gates: frozenset[str]  # gates that hold at least one lore chunk
    profiles: dict[str, GateProfile]
    lexical: LexicalIndex
    triggers: list[tuple[re.Pattern[str], int]]  # lorebook keys -> chunk position
    exact: dict[str, _Exact | None]  # partition -> in-memory copy (None: too big, use the store)
    exact_rows: int = 0


@dataclass(frozen=True, slots=True)
class _Exact:
    """A partition held in memory: unit-length rows and each row's position in the snapshot."""

    positions: np.ndarray  # int64
    matrix: np.ndarray  # float32, (rows, dim)


@dataclass(slots=True)
class _Fused:
    score: float = 0.0
    dense: float | None = None
    dense_rank: int | None = None
    lexical_rank: int | None = None


class KnowledgeBase:
    """One tenant's knowledge: ingest writes through it, retrieval reads through it."""

    def __init__(
        self,
        *,
        tenant: str,
        embedder: Embedder,
        vectors: VectorStore,
        catalog: Catalog,
        dense_weight: float = 1.0,
        lexical_weight: float = 1.0,
        exact_max: int = 5000,
        exact_budget: int = 50_000,
    ) -> None:
        self.tenant = tenant
        self.exact_max = exact_max
        self.exact_budget = exact_budget
        self.embedder = embedder
        self.vectors = vectors
        self.catalog = catalog
        self.dense_weight = dense_weight
        self.lexical_weight = lexical_weight
        self._snapshot: _Snapshot | None = None
        self._lock = asyncio.Lock()

    async def snapshot(self, revision: int | None = None) -> _Snapshot:
        """The catalog as of ``revision`` (read from the catalog when not given)."""
        if revision is None:
            revision = await self.catalog.revision(self.tenant)
        snap = self._snapshot
        if snap is not None and snap.revision == revision:
            return snap
        async with self._lock:
            if self._snapshot is not None and self._snapshot.revision == revision:
                return self._snapshot
            chunks = await self.catalog.load_chunks(self.tenant)
            profiles = {p.gate_id: p for p in await self.catalog.gate_profiles(self.tenant)}
            profiles.setdefault(OPEN_GATE.gate_id, OPEN_GATE)
            lexical = await asyncio.to_thread(LexicalIndex, [c.text for c in chunks])
            gate_ids = sorted(profiles.keys() | {c.gate_id for c in chunks})
            gate_index = {g: i for i, g in enumerate(gate_ids)}
            self._snapshot = _Snapshot(
                revision=revision,
                chunks=chunks,
                by_id={c.chunk_id: i for i, c in enumerate(chunks)},
                kind_codes=np.fromiter(
                    (KINDS.index(c.kind) for c in chunks), dtype=np.int8, count=len(chunks)
                ),
                gate_codes=np.fromiter(
                    (gate_index[c.gate_id] for c in chunks), dtype=np.int32, count=len(chunks)
                ),
                gate_ids=gate_ids,
                lore_gates=frozenset(c.gate_id for c in chunks if c.kind == "lore"),
                profiles=profiles,
                lexical=lexical,
                triggers=_triggers(chunks),
                exact={},
            )
            log.debug("kb.snapshot", tenant=self.tenant, revision=revision, chunks=len(chunks))
            return self._snapshot

    def invalidate(self) -> None:
        self._snapshot = None

    def collection_for(self, kind: Kind, gate_id: str) -> str:
        return partition_name(self.tenant, self.embedder.id, kind, gate_id)

    async def vector_count(self) -> int:
        """Vectors stored across every partition this tenant's catalog has ever used."""
        profiles = await self.catalog.gate_profiles(self.tenant)
        names = {self.collection_for("lore", p.gate_id) for p in profiles} | {self.collection_for("faq", "")}
        return sum([await self.vectors.count(name) for name in sorted(names)])

    async def search(
        self,
        query: str,
        *,
        kinds: Sequence[Kind] = ("lore",),
        asker: Asker | None = None,
        k: int = 5,
        candidates: int = 40,
        dedupe_sources: bool = False,
        query_vector: np.ndarray | Awaitable[np.ndarray | None] | None = None,
        revision: int | None = None,
    ) -> list[SearchHit]:
        """Best ``k`` chunks the asker may know, for ``query``.

        Lore is gated by ``asker`` (no asker: only ungated lore). FAQ entries and tickets
        are open to every persona of the tenant. With ``dedupe_sources`` only the best
        chunk of each source document is kept. If the embedder or the vector store fails,
        the search degrades to BM25 alone (same gate) and logs ``kb.dense_unavailable``.
        ``query_vector``: the query's embedding when the caller has it, or an awaitable of it
        still being computed (BM25 runs meanwhile; ``None`` from it means the embedder failed).
        ``revision``: the catalog revision the caller already read (saves a round trip).
        :meth:`retrieve` also says whether the search degraded.
        """
        found = await self.retrieve(
            query,
            kinds=kinds,
            asker=asker,
            k=k,
            candidates=candidates,
            dedupe_sources=dedupe_sources,
            query_vector=query_vector,
            revision=revision,
        )
        return found.hits

    async def retrieve(
        self,
        query: str,
        *,
        kinds: Sequence[Kind] = ("lore",),
        asker: Asker | None = None,
        k: int = 5,
        candidates: int = 40,
        dedupe_sources: bool = False,
        query_vector: np.ndarray | Awaitable[np.ndarray | None] | None = None,
        revision: int | None = None,
    ) -> Retrieval:
        """:meth:`search`, with ``Retrieval.degraded`` saying whether dense search was left out
        and why: callers that must not trust BM25 alone (the support turn) tell the outage apart
        from a question the knowledge base does not cover."""
        if not query or not query.strip():
            raise InvalidInputError("the search query is empty; pass the player's words")
        bad = [kind for kind in kinds if kind not in KINDS]
        if bad or not kinds:
            raise InvalidInputError(f"unknown kind(s) {bad}; use some of {list(KINDS)}")
        snap = await self.snapshot(revision)
        allowed = self._allowed(snap, asker)
        searches: list[tuple[str, MetadataFilter | None]] = []
        if "lore" in kinds:
            searches += [(self.collection_for("lore", g), None) for g in allowed if g in snap.lore_gates]
        support = tuple(k for k in kinds if k != "lore")
        if support:
            where = None if set(support) == {"faq", "ticket"} else MetadataFilter(one_of={"kind": support})
            searches.append((self.collection_for("faq", ""), where))
        kind_ok = np.zeros(len(KINDS), dtype=bool)
        kind_ok[[KINDS.index(k) for k in kinds]] = True
        pending: Awaitable[np.ndarray | None] | None = None
        if query_vector is None:  # embed on the embedder's thread while BM25 runs here
            pending = asyncio.ensure_future(self._embed(query))
            await asyncio.sleep(0)
        elif not isinstance(query_vector, np.ndarray):
            pending = query_vector
        allowed_set = set(allowed)
        gate_ok = np.fromiter((g in allowed_set for g in snap.gate_ids), dtype=bool, count=len(snap.gate_ids))
        mask = kind_ok[snap.kind_codes] & gate_ok[snap.gate_codes]
        lexical = snap.lexical.search(query, k=candidates, mask=mask)
        dense: list[tuple[str, float]] = []
        degraded: str | None = None
        try:
            vector = await pending if pending is not None else query_vector
            if vector is None:
                degraded = _UNAVAILABLE[EmbedderError]
                log.warning("kb.dense_unavailable", tenant=self.tenant, error="no query embedding")
            else:
                dense = await self._dense(snap, searches, np.asarray(vector), kind_ok, candidates)
        except BackendError as exc:  # degrade to lexical search (still gated), never fail the turn
            degraded = next(
                (why for kind, why in _UNAVAILABLE.items() if isinstance(exc, kind)),
                f"{exc.code} in dense search",
            )
            log.warning("kb.dense_unavailable", tenant=self.tenant, error=str(exc), code=exc.code)

        fused: dict[str, _Fused] = {}
        for rank, (chunk_id, similarity) in enumerate(dense, start=1):
            entry = fused.setdefault(chunk_id, _Fused())
            entry.score += self.dense_weight / (RRF_K + rank)
            entry.dense, entry.dense_rank = similarity, rank
        for rank, (index, _score) in enumerate(lexical, start=1):
            entry = fused.setdefault(snap.chunks[index].chunk_id, _Fused())
            entry.score += self.lexical_weight / (RRF_K + rank)
            entry.lexical_rank = rank

        hits: list[SearchHit] = []
        seen_sources: set[str] = set()
        for chunk_id, entry in sorted(fused.items(), key=lambda kv: -kv[1].score):
            position = snap.by_id.get(chunk_id)
            if position is None:
                log.warning("kb.orphan_vector", tenant=self.tenant, chunk_id=chunk_id)
                continue
            chunk = snap.chunks[position]
            profile = snap.profiles.get(chunk.gate_id)
            if chunk.kind not in kinds or profile is None or not self._admits(profile, asker):
                log.error("kb.gate_violation_blocked", tenant=self.tenant, chunk_id=chunk_id)
                continue
            if dedupe_sources and chunk.source_id in seen_sources:
                continue
            seen_sources.add(chunk.source_id)
            hits.append(
                _hit(
                    chunk,
                    score=entry.score,
                    dense_score=entry.dense,
                    dense_rank=entry.dense_rank,
                    lexical_rank=entry.lexical_rank,
                )
            )
            if len(hits) >= k:
                break
        return Retrieval(hits, degraded)

    async def _embed(self, query: str) -> np.ndarray:
        return (await self.embedder.embed([query], kind="query"))[0]

    async def _dense(
        self,
        snap: _Snapshot,
        searches: list[tuple[str, MetadataFilter | None]],
        query_vector: np.ndarray,
        kind_ok: np.ndarray,
        candidates: int,
    ) -> list[tuple[str, float]]:
        """(chunk id, cosine) of the best ``candidates`` across ``searches``, best first."""
        query = np.asarray(query_vector, dtype=np.float32)
        norm = float(np.linalg.norm(query))
        unit = query / norm if norm else query
        found: list[tuple[str, float]] = []
        remote: list[tuple[str, MetadataFilter | None]] = []
        for name, where in searches:
            exact = await self._exact(snap, name)
            if exact is None:
                remote.append((name, where))
                continue
            if not len(exact.positions):
                continue
            scores = exact.matrix @ unit
            scores = np.where(kind_ok[snap.kind_codes[exact.positions]], scores, -np.inf)
            top = min(candidates, len(scores))
            best = np.argpartition(-scores, top - 1)[:top]
            found += [
                (snap.chunks[int(exact.positions[i])].chunk_id, float(scores[i]))
                for i in best
                if scores[i] > -np.inf
            ]
        if remote:
            vector = query.tolist()
            results = await asyncio.gather(
                *(
                    self.vectors.query(name, vector, k=candidates, where=w, payload=False)
                    for name, w in remote
                )
            )
            found += [(hit.id, hit.score) for part in results for hit in part]
        return sorted(found, key=lambda item: -item[1])[:candidates]

    async def _exact(self, snap: _Snapshot, name: str) -> _Exact | None:
        """The in-memory copy of partition ``name`` (read on first use), or None to query the store."""
        if name in snap.exact:
            return snap.exact[name]
        room = min(self.exact_max, self.exact_budget - snap.exact_rows)
        fetched = await self.vectors.fetch_vectors(name, limit=room) if room > 0 else None
        exact: _Exact | None = None
        if fetched is not None:
            ids, matrix = fetched
            keep = [(row, snap.by_id[i]) for row, i in enumerate(ids) if i in snap.by_id]  # orphans out
            rows = np.asarray([r for r, _ in keep], dtype=np.int64)
            kept = matrix[rows] if len(rows) else np.zeros((0, max(matrix.shape[-1], 1)), np.float32)
            norms = np.linalg.norm(kept, axis=1, keepdims=True)
            exact = _Exact(
                positions=np.asarray([p for _, p in keep], dtype=np.int64),
                matrix=np.ascontiguousarray(kept / np.where(norms == 0, 1.0, norms), dtype=np.float32),
            )
            snap.exact_rows += len(keep)
        snap.exact[name] = exact
        return exact

    async def triggered(
        self, text: str, asker: Asker | None, *, limit: int = 3, revision: int | None = None
    ) -> list[SearchHit]:
        """Lorebook entries whose ``keys`` occur in ``text`` (whole words, any case), gated like search."""
        snap = await self.snapshot(revision)
        hits: list[SearchHit] = []
        seen: set[str] = set()
        for pattern, position in snap.triggers:
            chunk = snap.chunks[position]
            if chunk.source_id in seen or not pattern.search(text):
                continue
            profile = snap.profiles.get(chunk.gate_id)
            if profile is None or not self._admits(profile, asker):
                continue
            seen.add(chunk.source_id)
            hits.append(_hit(chunk, score=1.0))
            if len(hits) >= limit:
                break
        return hits

    async def hidden_lore(
        self, asker: Asker | None, *, revision: int | None = None
    ) -> tuple[int, list[CatalogChunk]]:
        """(catalog revision, every lore chunk ``asker`` may NOT know): what replies must not leak."""
        snap = await self.snapshot(revision)
        allowed = set(self._allowed(snap, asker))
        return snap.revision, [c for c in snap.chunks if c.kind == "lore" and c.gate_id not in allowed]

    @staticmethod
    def _admits(profile: GateProfile, asker: Asker | None) -> bool:
        if asker is None:
            return profile == OPEN_GATE
        return profile.admits(asker)

    @staticmethod
    def _allowed(snap: _Snapshot, asker: Asker | None) -> tuple[str, ...]:
        if asker is None:
            return (OPEN_GATE.gate_id,)
        return allowed_gate_ids(snap.profiles.values(), asker)


def _hit(
    chunk: CatalogChunk,
    *,
    score: float,
    dense_score: float | None = None,
    dense_rank: int | None = None,
    lexical_rank: int | None = None,
) -> SearchHit:
    return SearchHit(
        chunk_id=chunk.chunk_id,
        source_id=chunk.source_id,
        kind=chunk.kind,
        title=chunk.title,
        text=chunk.text,
        score=score,
        dense_score=dense_score,
        dense_rank=dense_rank,
        lexical_rank=lexical_rank,
        metadata=dict(chunk.metadata),
    )


def _triggers(chunks: Sequence[CatalogChunk]) -> list[tuple[re.Pattern[str], int]]:
    """One pattern per keyed lore chunk: any of its keys as a whole word (substring for CJK)."""
    out: list[tuple[re.Pattern[str], int]] = []
    for position, chunk in enumerate(chunks):
        keys = [k.strip() for k in str(chunk.metadata.get("keys", "")).split("|") if k.strip()]
        if chunk.kind != "lore" or not keys:
            continue
        alternatives = [re.escape(k) if not k.isascii() else rf"(?<!\w){re.escape(k)}(?!\w)" for k in keys]
        out.append((re.compile("|".join(alternatives), re.IGNORECASE), position))
    return out
