"""Chroma, embedded (``PersistentClient``) or a ``chroma run`` server (``HttpClient``).

Embeddings are always passed explicitly and collections are created with
``embedding_function=None``: Chroma's default embedding function downloads a model on
first use, which must never happen. Telemetry is off. The client is synchronous, so
every call runs in a worker thread. Chroma types never leave this module.

A server can go away and come back. Every HTTP request is bounded (``timeout_s``, see
:class:`ChromaVectorStore`); a failure is a :class:`~npc_engine.errors.VectorStoreError`
that says whether the server was unreachable or slow (never a raw chromadb or httpx
error); it drops the cached collection handles and, when the server could not be reached,
the client too, so that the next call reconnects: a server restarted on the same address
is picked up without restarting the worker.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import numpy as np
import structlog

from knowledge.types import MetadataFilter, VectorHit, VectorRecord
from npc_engine.errors import ConfigError, VectorStoreError

__all__ = ["ChromaVectorStore"]

log = structlog.get_logger("npc_engine.knowledge")

_BATCH = 2000
_HEARTBEAT = "/api/v2/heartbeat"
_HEARTBEAT_S = 2.0


class ChromaVectorStore:
    """Exactly one of ``path=`` (embedded, files under ``path``) or ``url=`` (``http://HOST:PORT``).

    With ``url=``, each HTTP request to the server (connect, send, answer, and the wait for
    a pooled connection) is bounded by ``timeout_s`` seconds, 10 by default; chromadb's own
    client would wait forever, so the bound is set on its HTTP session. A server that is
    down fails a call at once (connection refused), one that hangs fails it after
    ``timeout_s`` (``heartbeat`` after at most 2 s). A call that sends several requests (a
    large upsert, in batches of 2000 records) may take up to ``timeout_s`` per request.
    """

    def __init__(self, *, path: Path | None = None, url: str | None = None, timeout_s: float = 10.0) -> None:
        if (path is None) == (url is None):
            raise ConfigError("ChromaVectorStore needs exactly one of path= (embedded) or url= (server)")
        if timeout_s <= 0:
            raise ConfigError(f"ChromaVectorStore timeout_s must be positive, not {timeout_s}")
        self.path = path
        self.url = url
        self.timeout_s = timeout_s
        self._client: Any = None
        self._collections: dict[str, Any] = {}
        self._lock = threading.Lock()  # guards the two caches; never held across a request
        # one embedded client per store: chromadb's per-path system cache is not thread-safe
        self._open_lock = threading.Lock() if path is not None else contextlib.nullcontext()

    @property
    def _where_to(self) -> str:
        return str(self.path) if self.path is not None else f"the Chroma server at {self.url}"

    def _open(self) -> Any:
        import chromadb
        from chromadb.config import Settings as ChromaSettings

        settings = ChromaSettings(anonymized_telemetry=False)
        if self.path is not None:
            self.path.mkdir(parents=True, exist_ok=True)
            return chromadb.PersistentClient(path=str(self.path), settings=settings)
        parts = urlsplit(self.url or "")
        self._probe(self.timeout_s)  # chromadb's constructor asks the server without a timeout: ask first
        client = chromadb.HttpClient(
            host=parts.hostname or "127.0.0.1",
            port=parts.port or 8000,
            ssl=parts.scheme == "https",
            settings=settings,
        )
        session = _http_session(client)
        if session is None:  # a chromadb whose internals moved: say so rather than hang silently
            log.warning("chroma.unbounded_requests", url=self.url, timeout_s=self.timeout_s)
        else:
            session.timeout = httpx.Timeout(self.timeout_s)
        return client

    def _probe(self, timeout_s: float) -> None:
        """GET the server's heartbeat, bounded by ``timeout_s``; raise unless it answers 2xx."""
        parts = urlsplit(self.url or "")
        base = f"{parts.scheme or 'http'}://{parts.hostname or '127.0.0.1'}:{parts.port or 8000}"
        httpx.get(base + _HEARTBEAT, timeout=timeout_s).raise_for_status()

    def _connect(self) -> Any:
        client = self._client
        if client is not None:
            return client
        with self._open_lock:
            if self._client is not None:
                return self._client
            try:
                client = self._open()
            except Exception as exc:
                raise VectorStoreError(f"cannot open {self._where_to}: {self._describe(exc)}") from exc
        with self._lock:
            winner = self._client if self._client is not None else client
            self._client = winner
        if winner is not client:  # another thread connected meanwhile
            _close_client(client)
        return winner

    def _collection(self, name: str) -> Any:
        col = self._collections.get(name)
        if col is None:
            col = self._connect().get_or_create_collection(
                name, embedding_function=None, configuration={"hnsw": {"space": "cosine"}}
            )
            with self._lock:
                col = self._collections.setdefault(name, col)
        return col

    def _forget(self, exc: BaseException) -> None:
        """After a failure: drop the collection handles (a restarted or reset server may have
        new ones) and, when the server could not be reached, the client too, so that the next
        call reconnects. A request the server refused keeps the client (others may be using it)."""
        drop_client = self.url is not None and any(isinstance(e, httpx.TransportError) for e in _chain(exc))
        with self._lock:
            self._collections.clear()
            client = self._client if drop_client else None
            if drop_client:
                self._client = None
        if client is not None:
            _close_client(client)

    def _describe(self, exc: BaseException, timeout_s: float | None = None) -> str:
        chain = _chain(exc)
        if self.url is not None:
            if any(isinstance(e, httpx.TimeoutException) for e in chain):
                return f"no answer within {timeout_s or self.timeout_s:g} s"
            refused = next((e for e in chain if isinstance(e, httpx.ConnectError)), None)
            if refused is not None:
                return f"cannot connect ({refused}); is `chroma run` up?"
        return f"{type(exc).__name__}: {exc}"

    async def _run(self, what: str, fn: Any, *args: Any, **kwargs: Any) -> Any:
        try:
            return await asyncio.to_thread(fn, *args, **kwargs)
        except ConfigError:
            raise
        except VectorStoreError as exc:
            self._forget(exc)
            raise
        except Exception as exc:
            self._forget(exc)
            raise VectorStoreError(f"Chroma {what} failed ({self._where_to}): {self._describe(exc)}") from exc

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
        """Raise :class:`VectorStoreError` unless Chroma answers (what ``/readyz`` asks).

        A server gets at most ``min(timeout_s, 2)`` seconds: readiness probes come often, and a
        hung server must not hold a worker thread per probe for long."""
        if self.url is None:
            await self._run("heartbeat", lambda: self._connect().heartbeat())
            return
        bound = min(self.timeout_s, _HEARTBEAT_S)
        try:
            await asyncio.to_thread(self._probe, bound)
        except Exception as exc:
            self._forget(exc)
            raise VectorStoreError(
                f"Chroma heartbeat failed ({self._where_to}): {self._describe(exc, bound)}"
            ) from exc

    async def count(self, collection: str) -> int:
        return await self._run("count", lambda: self._collection(collection).count())

    def close(self) -> None:
        with self._lock:
            self._collections.clear()
            client, self._client = self._client, None
        if client is not None and self.url is not None:  # embedded: the path's system stays shared
            _close_client(client)


def _chain(exc: BaseException) -> list[BaseException]:
    """``exc`` and what it was raised from or while handling (chromadb re-raises httpx errors)."""
    chain: list[BaseException] = []
    cause: BaseException | None = exc
    while cause is not None and len(chain) < 8:
        chain.append(cause)
        cause = cause.__cause__ or cause.__context__
    return chain


def _http_session(client: Any) -> httpx.Client | None:
    """The httpx session inside a chromadb ``HttpClient`` (chromadb 1.5 keeps it on ``_server``)."""
    session = getattr(getattr(client, "_server", None), "_session", None)
    return session if isinstance(session, httpx.Client) else None


def _close_client(client: Any) -> None:
    """Release an HTTP client's sockets now, not at garbage collection, and its chromadb systems.

    chromadb's ``close`` leaves the sessions open, and an ``HttpClient`` holds two: its own
    and its admin client's (which checked the tenant and database when it connected).
    """
    try:
        for holder in (client, getattr(client, "_admin_client", None)):
            session = _http_session(holder)
            if session is not None:
                session.close()
        client.close()
    except Exception as exc:  # closing is best effort: the server may be gone
        log.debug("chroma.close_failed", error=f"{type(exc).__name__}: {exc}")
