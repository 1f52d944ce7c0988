"""The ``VectorStore`` seam: upsert, query with a metadata filter, delete, read back a small collection."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol, runtime_checkable

import numpy as np

from knowledge.types import MetadataFilter, VectorHit, VectorRecord

__all__ = ["VectorStore"]


@runtime_checkable
class VectorStore(Protocol):
    """Collections of vectors with flat scalar metadata; cosine similarity.

    ``query`` applies ``where`` *inside* the search (never as a post-filter on a top-k),
    returns at most ``k`` hits, best first; with ``payload=False`` hits carry only id and
    score (text and metadata empty), which is cheaper when the caller holds them already.
    A collection that does not exist yet is empty. Unknown ids in ``delete`` are ignored.
    Failures raise :class:`~npc_engine.errors.VectorStoreError`.
    """

    async def upsert(self, collection: str, records: Sequence[VectorRecord]) -> None: ...

    async def query(
        self,
        collection: str,
        vector: Sequence[float],
        *,
        k: int,
        where: MetadataFilter | None = None,
        payload: bool = True,
    ) -> list[VectorHit]: ...

    async def delete(self, collection: str, ids: Sequence[str]) -> None: ...

    async def fetch_vectors(self, collection: str, *, limit: int) -> tuple[list[str], np.ndarray] | None:
        """Every (id, vector) of ``collection`` as ids and a float32 matrix, or ``None`` if it holds
        more than ``limit`` vectors. The knowledge base keeps small partitions in memory and
        searches them exactly, which is faster than a round trip per partition."""
        ...

    async def count(self, collection: str) -> int: ...

    def close(self) -> None: ...
