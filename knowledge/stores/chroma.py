"""Chroma, embedded (``PersistentClient``) or a ``chroma run`` server (``HttpClient``).

Embeddings are always passed explicitly and collections are created with
``embedding_function=None``: Chroma's default embedding function downloads a model on
first use, which must never happen. Telemetry is off. The client is synchronous, so
every call runs in a worker thread. Chroma types never leave this module.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import numpy as np

from knowledge.types import MetadataFilter, VectorHit, VectorRecord
from npc_engine.errors import ConfigError, VectorStoreError

__all__ = ["ChromaVectorStore"]

_BATCH = 2000


class ChromaVectorStore:
    def __init__(self, *, path: Path | None = None, url: str | None = None) -> None:
        if (path is None) == (url is None):
            raise ConfigError("ChromaVectorStore needs exactly one of path= (embedded) or url= (server)")
        self.path = path
        self.url = url
        self._client: Any = None
        self._collections: dict[str, Any] = {}
        self._lock = threading.Lock()

    def _connect(self) -> Any:
        if self._client is None:
            import chromadb
            from chromadb.config import Settings as ChromaSettings

            settings = ChromaSettings(anonymized_telemetry=False)
            try:
                if self.path is not None:
                    self.path.mkdir(parents=True, exist_ok=True)
                    self._client = chromadb.PersistentClient(path=str(self.path), settings=settings)
                else:
                    parts = urlsplit(self.url or "")
                    self._client = chromadb.HttpClient(
                        host=parts.hostname or "127.0.0.1",
                        port=parts.port or 8000,
                        ssl=parts.scheme == "https",
                        settings=settings,
                    )
            except Exception as exc:
                raise VectorStoreError(f"cannot open Chroma at {self.path or self.url}: {exc}") from exc
        return self._client

    def _collection(self, name: str) -> Any:
        with self._lock:
            col = self._collections.get(name)
            if col is None:
                col = self._connect().get_or_create_collection(
                    name, embedding_function=None, configuration={"hnsw": {"space": "cosine"}}
                )
                self._collections[name] = col
            return col

    async def _run(self, what: str, fn: Any, *args: Any, **kwargs: Any) -> Any:
        try:
            return await asyncio.to_thread(fn, *args, **kwargs)
        except (ConfigError, VectorStoreError):
            raise
        except Exception as exc:
            with self._lock:  # a restarted server invalidates cached handles
                self._collections.clear()
                if self.url is not None:
                    self._client = None
            raise VectorStoreError(f"Chroma {what} failed ({self.path or self.url}): {exc}") from exc

    def _upsert(self, collection: str, records: Sequence[VectorRecord]) -> None:
        col = self._collection(collection)
        for i in range(0, len(records), _BATCH):
            batch = records[i : i + _BATCH]
            col.upsert(
                ids=[r.id for r in batch],
                embeddings=[list(map(float, r.vector)) for r in batch],
                documents=[r.text for r in batch],
                metadatas=[dict(r.metadata) for r in batch],
            )

    async def upsert(self, collection: str, records: Sequence[VectorRecord]) -> None:
        if records:
            await self._run("upsert", self._upsert, collection, list(records))

    @staticmethod
    def _where(where: MetadataFilter | None) -> dict[str, Any] | None:
        if where is None:
            return None
        clauses: list[dict[str, Any]] = [{k: v} for k, v in where.equals.items()]
        clauses += [{k: {"$in": list(v)}} for k, v in where.one_of.items()]
        if not clauses:
            return None
        return clauses[0] if len(clauses) == 1 else {"$and": clauses}

    def _query(
        self, collection: str, vector: Sequence[float], k: int, where: MetadataFilter | None, payload: bool
    ) -> list[VectorHit]:
        col = self._collection(collection)
        result = col.query(
            query_embeddings=[list(map(float, vector))],
            n_results=k,
            where=self._where(where),
            include=["documents", "metadatas", "distances"] if payload else ["distances"],
        )
        ids = result["ids"][0]
        docs = (result.get("documents") or [[]])[0] or [""] * len(ids)
        metas = (result.get("metadatas") or [[]])[0] or [{}] * len(ids)
        dists = (result.get("distances") or [[]])[0] or [1.0] * len(ids)
        return [
            VectorHit(i, 1.0 - float(d), doc or "", dict(meta or {}))
            for i, doc, meta, d in zip(ids, docs, metas, dists, strict=True)
        ]

    async def query(
        self,
        collection: str,
        vector: Sequence[float],
        *,
        k: int,
        where: MetadataFilter | None = None,
        payload: bool = True,
    ) -> list[VectorHit]:
        if where is not None and where.matches_nothing():
            return []
        return await self._run("query", self._query, collection, vector, k, where, payload)

    def _delete(self, collection: str, ids: Sequence[str]) -> None:
        col = self._collection(collection)
        for i in range(0, len(ids), _BATCH):
            col.delete(ids=list(ids[i : i + _BATCH]))

    async def delete(self, collection: str, ids: Sequence[str]) -> None:
        if ids:
            await self._run("delete", self._delete, collection, list(ids))

    def _fetch(self, collection: str, limit: int) -> tuple[list[str], Any] | None:
        col = self._collection(collection)
        if col.count() > limit:
            return None
        ids: list[str] = []
        parts: list[Any] = []
        for offset in range(0, limit + 1, _BATCH):
            got = col.get(include=["embeddings"], limit=_BATCH, offset=offset)
            ids += got["ids"]
            if len(got["ids"]):
                parts.append(np.asarray(got["embeddings"], dtype=np.float32))
            if len(got["ids"]) < _BATCH:
                break
        if len(ids) > limit:  # grew between count() and get()
            return None
        return ids, (np.concatenate(parts) if parts else np.zeros((0, 0), dtype=np.float32))

    async def fetch_vectors(self, collection: str, *, limit: int) -> tuple[list[str], Any] | None:
        result: tuple[list[str], Any] | None = await self._run("fetch", self._fetch, collection, limit)
        return result

    async def heartbeat(self) -> None:
        """Raise :class:`VectorStoreError` unless Chroma answers (what ``/readyz`` asks)."""
        await self._run("heartbeat", lambda: self._connect().heartbeat())

    async def count(self, collection: str) -> int:
        return await self._run("count", lambda: self._collection(collection).count())

    def close(self) -> None:
        with self._lock:
            self._collections.clear()
            self._client = None
