"""The knowledge catalog: which files were ingested, and their chunks, per tenant.

The catalog (rows in the ``StateStore``'s database) is the source of truth for what
is in the index. Vectors live in the ``VectorStore``; a vector whose chunk id is not
in the catalog is ignored by retrieval, so a crash between the two writes can never
surface stale or foreign text. The lexical index is rebuilt from the catalog whenever
its ``revision`` moves, so any number of stateless workers see the same knowledge.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

from knowledge.gating import GateProfile
from knowledge.types import Kind, Scalar

__all__ = ["Catalog", "CatalogChunk", "IngestChanges", "SourceChange", "SourceState"]


@dataclass(frozen=True, slots=True)
class SourceState:
    rel: str
    kind: Kind
    digest: str
    chunk_gates: dict[str, str]  # chunk id -> gate id (which vector partition holds it)
    source_ids: frozenset[str]

    @property
    def chunk_ids(self) -> frozenset[str]:
        return frozenset(self.chunk_gates)


@dataclass(frozen=True, slots=True)
class CatalogChunk:
    chunk_id: str
    source_id: str
    kind: Kind
    ordinal: int
    title: str
    text: str
    gate_id: str
    metadata: dict[str, Scalar]


@dataclass(frozen=True, slots=True)
class SourceChange:
    rel: str
    kind: Kind
    digest: str
    chunks: tuple[CatalogChunk, ...]


@dataclass(slots=True)
class IngestChanges:
    root: str
    upserts: list[SourceChange] = field(default_factory=list)
    deletes: list[str] = field(default_factory=list)  # rel paths
    gates: list[GateProfile] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not self.upserts and not self.deletes


@runtime_checkable
class Catalog(Protocol):
    async def sources(self, tenant: str, root: str) -> dict[str, SourceState]: ...

    async def source_owners(self, tenant: str, source_ids: Sequence[str]) -> dict[str, str]:
        """Map each given source id that is already catalogued to ``root::rel``."""
        ...

    async def apply_ingest(self, tenant: str, changes: IngestChanges) -> int:
        """Apply all changes in one transaction; return the tenant's new revision."""
        ...

    async def revision(self, tenant: str) -> int: ...

    async def load_chunks(self, tenant: str, kinds: Sequence[Kind] | None = None) -> list[CatalogChunk]: ...

    async def gate_profiles(self, tenant: str) -> list[GateProfile]: ...
