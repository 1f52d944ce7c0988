"""An in-process vector store (exact cosine search with numpy), for tests and small worlds."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from knowledge.types import MetadataFilter, VectorHit, VectorRecord

__all__ = ["MemoryVectorStore"]


class MemoryVectorStore:
    def __init__(self) -> None:
        self._data: dict[str, dict[str, VectorRecord]] = {}
        self.queries: list[tuple[str, MetadataFilter | None]] = []
        self.fetched: list[str] = []

    async def upsert(self, collection: str, records: Sequence[VectorRecord]) -> None:
        table = self._data.setdefault(collection, {})
        for record in records:
            table[record.id] = record

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
        if where is not None and where.matches_nothing():
            return []
        rows = [
            r for r in self._data.get(collection, {}).values() if where is None or where.matches(r.metadata)
        ]
        if not rows:
            return []
        matrix = np.asarray([r.vector for r in rows], dtype=np.float32)
        scores = matrix @ np.asarray(vector, dtype=np.float32)
        order = np.argsort(-scores, kind="stable")[:k]
        return [
            VectorHit(
                rows[i].id,
                float(scores[i]),
                rows[i].text if payload else "",
                dict(rows[i].metadata) if payload else {},
            )
            for i in order
        ]

    async def delete(self, collection: str, ids: Sequence[str]) -> None:
        table = self._data.get(collection, {})
        for i in ids:
            table.pop(i, None)

    async def fetch_vectors(self, collection: str, *, limit: int) -> tuple[list[str], np.ndarray] | None:
        self.fetched.append(collection)
        rows = list(self._data.get(collection, {}).values())
        if len(rows) > limit:
            return None
        matrix = np.asarray([r.vector for r in rows], dtype=np.float32).reshape(len(rows), -1)
        return [r.id for r in rows], matrix

    async def count(self, collection: str) -> int:
        return len(self._data.get(collection, {}))

    def close(self) -> None:
        pass
