"""Vector stores behind the one ``VectorStore`` seam."""

from knowledge.stores.base import VectorStore
from knowledge.stores.memory import MemoryVectorStore

__all__ = ["MemoryVectorStore", "VectorStore"]
