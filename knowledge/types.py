"""Plain data passed across the knowledge seams: no vendor type crosses them."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Literal

__all__ = [
    "Chunk",
    "Document",
    "Kind",
    "MetadataFilter",
    "Retrieval",
    "Scalar",
    "SearchHit",
    "VectorHit",
    "VectorRecord",
    "content_hash",
]

Kind = Literal["lore", "faq", "ticket"]
KINDS: tuple[Kind, ...] = ("lore", "faq", "ticket")
Scalar = str | int | float | bool


def content_hash(*parts: str) -> str:
    """A stable sha256 over text parts (hex, first 32 chars)."""
    h = hashlib.sha256()
    for part in parts:
        h.update(part.encode("utf-8"))
        h.update(b"\x00")
    return h.hexdigest()[:32]


@dataclass(frozen=True, slots=True)
class Document:
    """One knowledge document as loaded from a world file, before chunking.

    ``source_id`` is what a reply cites: ``lore:<id>``, ``faq:<id>``, ``ticket:<id>``.
    ``gating`` is the lore gate (see :mod:`knowledge.gating`), ``None`` for FAQ/tickets.
    ``body`` is the text that is chunked and embedded; ``title`` is kept with every chunk.
    """

    kind: Kind
    doc_id: str
    title: str
    body: str
    source_path: str
    locale: str = "en"
    category: str | None = None
    tags: tuple[str, ...] = ()
    keys: tuple[str, ...] = ()
    gating: dict[str, object] | None = None
    canary: str | None = None
    extra: dict[str, str] = field(default_factory=dict)

    @property
    def source_id(self) -> str:
        return f"{self.kind}:{self.doc_id}"


@dataclass(frozen=True, slots=True)
class Chunk:
    """A piece of a document as indexed: text plus flat scalar metadata."""

    chunk_id: str
    source_id: str
    kind: Kind
    ordinal: int
    text: str
    metadata: dict[str, Scalar]


@dataclass(frozen=True, slots=True)
class VectorRecord:
    id: str
    vector: list[float]
    text: str
    metadata: dict[str, Scalar]


@dataclass(frozen=True, slots=True)
class VectorHit:
    id: str
    score: float  # cosine similarity, higher is closer
    text: str
    metadata: dict[str, Scalar]


@dataclass(frozen=True, slots=True)
class MetadataFilter:
    """A conjunction: every ``equals`` pair holds and every ``one_of`` field is in its list.

    Deliberately tiny so that every vector store can translate it exactly.
    An empty ``one_of`` list matches nothing.
    """

    equals: dict[str, Scalar] = field(default_factory=dict)
    one_of: dict[str, tuple[Scalar, ...]] = field(default_factory=dict)

    def matches(self, metadata: dict[str, Scalar]) -> bool:
        for key, value in self.equals.items():
            if metadata.get(key) != value:
                return False
        return all(metadata.get(key) in values for key, values in self.one_of.items())

    def matches_nothing(self) -> bool:
        return any(len(v) == 0 for v in self.one_of.values())


@dataclass(frozen=True, slots=True)
class SearchHit:
    """One retrieval result after fusion and the gating re-check."""

    chunk_id: str
    source_id: str
    kind: Kind
    title: str
    text: str
    score: float  # fused score (reciprocal rank), higher is better
    dense_score: float | None  # cosine similarity when the dense search found it
    lexical_rank: int | None
    dense_rank: int | None
    metadata: dict[str, Scalar]


@dataclass(frozen=True, slots=True)
class Retrieval:
    """A search's hits, and whether dense search took part in finding them.

    ``degraded`` says why it did not (``"vector store unavailable"``, ``"embedder
    unavailable"``): the hits are then BM25's alone and carry no ``dense_score``.
    """

    hits: list[SearchHit]
    degraded: str | None = None
