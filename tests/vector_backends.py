"""Vector stores for tests that run on every backend: in memory, embedded Chroma, a Chroma server.

``VECTOR_BACKENDS`` names them; ``new_vector_store(kind, root, server)`` builds one, and
:class:`VectorStores` (the ``make_vector_store`` fixture) builds them and closes them. The tests
of a session share one ``chroma run`` server (the ``chroma_server`` fixture), so a store on it
is a :class:`TestStore` that gives the test collections of its own (a random name prefix):
nothing needs cleaning up and no two tests see each other's vectors. Both Chroma stores record
what they were asked, as :class:`~knowledge.stores.memory.MemoryVectorStore` does.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from knowledge.embedders.base import Embedder, EmbedKind
from knowledge.stores.base import VectorStore
from knowledge.stores.chroma import ChromaVectorStore
from knowledge.stores.memory import MemoryVectorStore
from knowledge.types import MetadataFilter, VectorHit, VectorRecord
from npc_engine.devservices import ChromaServer

VECTOR_BACKENDS = ("memory", "chroma", "chroma-server")


class TestStore:
    """A :class:`ChromaVectorStore` seen through collection names of this store's own.

    ``queries`` and ``fetched`` record the (unprefixed) collections searched and read back.
    """

    __test__ = False  # not a test class

    def __init__(self, inner: ChromaVectorStore, *, prefix: str = "") -> None:
        self.inner = inner
        self.prefix = prefix
        self.queries: list[tuple[str, MetadataFilter | None]] = []
        self.fetched: list[str] = []

    def _name(self, collection: str) -> str:
        return self.prefix + collection

    async def upsert(self, collection: str, records: Sequence[VectorRecord]) -> None:
        await self.inner.upsert(self._name(collection), records)

    async def query(
        self,
        collection: str,
        vector: Sequence[float],
        *,
        k: int,
        where: MetadataFilter | None = None,
        payload: bool = True,
    ) -> list[VectorHit]:
        self.queries.append((collection, where))
        return await self.inner.query(self._name(collection), vector, k=k, where=where, payload=payload)

    async def delete(self, collection: str, ids: Sequence[str]) -> None:
        await self.inner.delete(self._name(collection), ids)

    async def fetch_vectors(self, collection: str, *, limit: int) -> tuple[list[str], np.ndarray] | None:
        self.fetched.append(collection)
        return await self.inner.fetch_vectors(self._name(collection), limit=limit)

    async def count(self, collection: str) -> int:
        return await self.inner.count(self._name(collection))

    async def heartbeat(self) -> None:
        await self.inner.heartbeat()

    def close(self) -> None:
        self.inner.close()


def new_vector_store(kind: str, root: Path, server: ChromaServer | None = None) -> VectorStore:
    """A fresh, empty store: ``memory``, ``chroma`` (files under ``root``) or ``chroma-server``."""
    if kind == "memory":
        return MemoryVectorStore()
    if kind == "chroma":
        return TestStore(ChromaVectorStore(path=root))
    if kind == "chroma-server":
        assert server is not None, "a chroma-server store needs the chroma_server fixture"
        return TestStore(ChromaVectorStore(url=server.url), prefix=f"t{uuid.uuid4().hex[:10]}-")
    raise ValueError(f"unknown vector backend {kind!r}; use one of {VECTOR_BACKENDS}")


class VectorStores:
    """``stores()``: a fresh store of ``kind`` each call (embedded ones under ``root``); ``close()`` all."""

    def __init__(self, kind: str, root: Path, server: ChromaServer | None = None) -> None:
        self.kind, self.root, self.server = kind, root, server
        self.made: list[VectorStore] = []

    def __call__(self) -> VectorStore:
        store = new_vector_store(self.kind, self.root / f"chroma-{len(self.made)}", self.server)
        self.made.append(store)
        return store

    def close(self) -> None:
        for store in self.made:
            store.close()


class CachingEmbedder:
    """An embedder that remembers every vector it gave, so a second ingest of the same world
    (on another vector store) costs nothing. The results are the wrapped embedder's own."""

    def __init__(self, inner: Embedder) -> None:
        self.inner = inner
        self.id = inner.id
        self.dim = inner.dim
        self._cache: dict[tuple[EmbedKind, str], np.ndarray] = {}

    async def embed(self, texts: Sequence[str], *, kind: EmbedKind) -> np.ndarray:
        missing = list(dict.fromkeys(t for t in texts if (kind, t) not in self._cache))
        if missing:
            for text, row in zip(missing, await self.inner.embed(missing, kind=kind), strict=True):
                self._cache[(kind, text)] = row
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        return np.vstack([self._cache[(kind, t)] for t in texts])
