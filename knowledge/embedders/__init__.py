"""Embedders behind the one ``Embedder`` seam."""

from knowledge.embedders.base import Embedder, EmbedKind
from knowledge.embedders.hashing import HashEmbedder

__all__ = ["EmbedKind", "Embedder", "HashEmbedder"]
