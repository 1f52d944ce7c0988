"""Backends chosen by string id, imported lazily.

Built-in backends go through the same door as anything a studio plugs in: the id
names the backend, and the heavy import happens only when it is built. A missing
optional package fails with the exact ``pip install`` line.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from npc_engine.errors import ConfigError

if TYPE_CHECKING:
    from knowledge.embedders.base import Embedder
    from knowledge.stores.base import VectorStore
    from npc_engine.settings import Settings
    from npc_engine.state.store import SqlStateStore

__all__ = ["make_embedder", "make_state_store", "make_vector_store"]


def make_embedder(settings: Settings, *, threads: int | None = None) -> Embedder:
    """``e5`` (default, bundled multilingual-e5-small) or ``hash[:DIM]`` (test fake)."""
    backend, _, arg = settings.embedder.partition(":")
    if backend == "e5":
        count = settings.embed_threads if threads is None else threads
        if settings.embed_process:  # its own process: no GIL shared with the engine (see process.py)
            import os

            from knowledge.embedders.process import ProcessEmbedder

            return ProcessEmbedder(threads=count or (os.cpu_count() or 1), batch_size=settings.embed_batch)
        from knowledge.embedders.e5 import E5Embedder

        return E5Embedder(threads=count, batch_size=settings.embed_batch)
    if backend == "hash":
        from knowledge.embedders.hashing import HashEmbedder

        try:
            return HashEmbedder(int(arg) if arg else 256, record=False)  # a server keeps no texts
        except ValueError:
            raise ConfigError(
                f"NPC_EMBEDDER={settings.embedder!r}: write hash or hash:DIM with DIM a number"
            ) from None
    raise ConfigError(f"unknown embedder {settings.embedder!r}; use 'e5' or 'hash[:DIM]'")


def make_vector_store(settings: Settings) -> VectorStore:
    """``chroma`` (embedded under data_dir), ``chroma+http://HOST:PORT`` or ``memory``.

    A Chroma server's requests are each bounded by ``settings.vector_timeout_s``."""
    spec = settings.vector_store
    if spec == "chroma":
        from knowledge.stores.chroma import ChromaVectorStore

        return ChromaVectorStore(path=settings.data_dir / "chroma")
    if spec.startswith(("chroma+http://", "chroma+https://")):
        from knowledge.stores.chroma import ChromaVectorStore

        return ChromaVectorStore(url=spec.removeprefix("chroma+"), timeout_s=settings.vector_timeout_s)
    if spec == "memory":
        from knowledge.stores.memory import MemoryVectorStore

        return MemoryVectorStore()
    raise ConfigError(f"unknown vector store {spec!r}; use 'chroma', 'chroma+http://HOST:PORT' or 'memory'")


def make_state_store(settings: Settings) -> SqlStateStore:
    from npc_engine.state.store import SqlStateStore

    url = settings.resolved_state_url()
    if url.startswith("sqlite:///") and ":memory:" not in url:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
    return SqlStateStore(url)
