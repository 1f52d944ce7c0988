"""Ingest a world folder into a tenant's knowledge, skipping what has not changed.

Order of work, chosen so that a bad file or a crash never damages what is stored:

1. list the files and hash their bytes; compare with the catalog: unchanged files are
   not even parsed, so re-ingesting an unchanged world embeds nothing and loads no model;
2. parse every changed file; *any* error stops here, before anything is written;
3. chunk, and embed only chunks whose content hash is new (a changed file re-embeds
   only its changed chunks);
4. write the new vectors, then commit the catalog in one transaction (the catalog is
   the source of truth: retrieval ignores vectors it does not list), then delete the
   vectors of chunks that are gone.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import structlog

from knowledge.catalog import CatalogChunk, IngestChanges, SourceChange
from knowledge.chunking import chunk_markdown, chunk_text
from knowledge.embedders.base import EmbedKind
from knowledge.gating import GateProfile
from knowledge.loaders import check_unique, parse_source, scan_world
from knowledge.retrieval import KnowledgeBase
from knowledge.types import Document, Scalar, VectorRecord, content_hash
from npc_engine.errors import SourceFileError

__all__ = ["IngestReport", "chunk_document", "embedding_input", "ingest_documents", "ingest_world"]

log = structlog.get_logger("npc_engine.knowledge")

Progress = Callable[[int, int], None]


@dataclass(frozen=True, slots=True)
class IngestReport:
    files: int
    files_changed: int
    files_removed: int
    documents: int
    chunks_embedded: int
    chunks_deleted: int
    seconds: float
    revision: int

    def as_dict(self) -> dict[str, int | float]:
        return {name: getattr(self, name) for name in self.__dataclass_fields__}


def chunk_document(
    doc: Document, *, tenant: str, max_tokens: int, overlap: int
) -> tuple[GateProfile, list[CatalogChunk]]:
    gate = GateProfile.from_gating(doc.gating)
    if doc.kind == "lore":
        pieces = chunk_markdown(doc.body, title=doc.title, max_tokens=max_tokens, overlap=overlap)
    else:
        pieces = chunk_text(doc.body, title=doc.title, max_tokens=max_tokens, overlap=overlap)
    chunks: list[CatalogChunk] = []
    used: set[str] = set()
    for ordinal, piece in enumerate(pieces):
        meta: dict[str, Scalar] = {
            "tenant": tenant,
            "kind": doc.kind,
            "source_id": doc.source_id,
            "title": doc.title[:300],
            "locale": doc.locale,
            "gate_id": gate.gate_id,
            "secret": gate.secret,
            "ordinal": ordinal,
        }
        if doc.category:
            meta["category"] = doc.category
        if doc.keys:  # lorebook triggers: a key in the player's words brings the chunk in
            meta["keys"] = "|".join(doc.keys)
        if doc.canary:  # lets the output guard look for this exact phrase
            meta["canary"] = doc.canary
        for key, value in doc.extra.items():
            meta[key] = value[:4000]
        digest = content_hash(piece.text, json.dumps(meta, sort_keys=True, ensure_ascii=False))[:12]
        chunk_id = f"{doc.source_id}#{digest}"
        while chunk_id in used:
            chunk_id += "+"
        used.add(chunk_id)
        chunks.append(
            CatalogChunk(
                chunk_id, doc.source_id, doc.kind, ordinal, doc.title, piece.text, gate.gate_id, meta
            )
        )
    return gate, chunks


def embedding_input(chunk: CatalogChunk) -> tuple[str, EmbedKind]:
    """What to embed for a chunk, and how.

    The first chunk of an FAQ entry or a ticket is found by *question-to-question*
    similarity: its question is embedded in query mode, exactly like the player's
    question will be (on BANKING77 this alone moves top-1 from 0.889 to 0.901). Its
    answer text still reaches BM25 and the prompt. Lore, and the later chunks of a long
    answer, are embedded as passages.
    """
    question = chunk.metadata.get("question")
    if (
        chunk.kind in ("faq", "ticket")
        and chunk.ordinal == 0
        and isinstance(question, str)
        and question.strip()
    ):
        return question, "query"
    return chunk.text, "document"


async def _embed_batch(kb: KnowledgeBase, batch: Sequence[CatalogChunk]) -> np.ndarray:
    inputs = [embedding_input(c) for c in batch]
    out = np.zeros((len(batch), kb.embedder.dim), dtype=np.float32)
    for mode in ("query", "document"):
        index = [i for i, (_, kind) in enumerate(inputs) if kind == mode]
        if index:
            out[index] = await kb.embedder.embed([inputs[i][0] for i in index], kind=mode)
    return out


async def _embed_and_store(kb: KnowledgeBase, chunks: Sequence[CatalogChunk]) -> None:
    """Embed ``chunks`` and upsert them into their partitions (the catalog is committed after)."""
    vectors = await _embed_batch(kb, chunks)
    by_partition: dict[str, list[VectorRecord]] = {}
    for chunk, vector in zip(chunks, vectors, strict=True):
        by_partition.setdefault(kb.collection_for(chunk.kind, chunk.gate_id), []).append(
            VectorRecord(chunk.chunk_id, vector.tolist(), chunk.text, chunk.metadata)
        )
    for name, records in by_partition.items():
        await kb.vectors.upsert(name, records)


async def _drop_stale(kb: KnowledgeBase, stale: dict[str, list[str]]) -> None:
    """Delete vectors the committed catalog no longer lists; it already hides them, so a failure only logs."""
    try:
        for name, ids in stale.items():
            await kb.vectors.delete(name, sorted(ids))
    except Exception as exc:
        log.warning("kb.stale_vectors_left", tenant=kb.tenant, count=len(stale), error=str(exc))
    kb.invalidate()


async def ingest_world(
    kb: KnowledgeBase,
    root: Path,
    *,
    stages: Sequence[str],
    default_locale: str = "en",
    max_bytes: int = 2_000_000,
    chunk_tokens: int = 320,
    chunk_overlap: int = 40,
    batch_size: int = 32,
    reparse: bool = False,
    reembed: bool = False,
    progress: Progress | None = None,
) -> IngestReport:
    """Bring ``kb`` in line with the knowledge files under ``root``.

    ``reparse`` treats every file as changed (used when world.yaml changed, since stage
    ranks feed the gates); ``reembed`` also re-embeds chunks whose content is unchanged
    (after the vector store lost data, or to rebuild with another embedder).
    """
    started = time.perf_counter()
    root = root.resolve()
    key = str(root)
    files = scan_world(root, max_bytes=max_bytes)
    known = await kb.catalog.sources(kb.tenant, key)
    changed = [
        f for f in files if reparse or reembed or f.rel not in known or known[f.rel].digest != f.digest
    ]
    present = {f.rel for f in files}
    removed = [rel for rel in known if rel not in present]
    if not changed and not removed:
        return IngestReport(
            len(files), 0, 0, 0, 0, 0, time.perf_counter() - started, await kb.catalog.revision(kb.tenant)
        )

    # 2. parse everything that changed; any error aborts before a single write
    docs_by_file: dict[str, list[Document]] = {}
    for source in changed:
        docs_by_file[source.rel] = parse_source(
            source, stages=stages, default_locale=default_locale, max_bytes=max_bytes
        )
    all_docs = [d for docs in docs_by_file.values() for d in docs]
    check_unique(all_docs)
    rewritten = {rel for rel in docs_by_file} | set(removed)
    owners = await kb.catalog.source_owners(kb.tenant, [d.source_id for d in all_docs])
    for doc in all_docs:
        owner = owners.get(doc.source_id)
        if owner is not None and not (owner.startswith(key + "::") and owner.split("::", 1)[1] in rewritten):
            raise SourceFileError(
                f"duplicate id {doc.source_id!r}: already ingested from {owner.replace('::', '/')}",
                path=doc.source_path,
                field="id",
            )

    # 3. chunk; embed only new content
    changes = IngestChanges(root=key, deletes=removed)
    old_ids = {cid for rel in rewritten if rel in known for cid in known[rel].chunk_ids}
    gates: dict[str, GateProfile] = {}
    to_embed: list[CatalogChunk] = []
    new_ids: set[str] = set()
    for source in changed:
        file_chunks: list[CatalogChunk] = []
        for doc in docs_by_file[source.rel]:
            gate, chunks = chunk_document(
                doc, tenant=kb.tenant, max_tokens=chunk_tokens, overlap=chunk_overlap
            )
            gates[gate.gate_id] = gate
            file_chunks.extend(chunks)
        changes.upserts.append(SourceChange(source.rel, source.kind, source.digest, tuple(file_chunks)))
        for chunk in file_chunks:
            new_ids.add(chunk.chunk_id)
            if reembed or chunk.chunk_id not in old_ids:
                to_embed.append(chunk)
    changes.gates = list(gates.values())

    total = len(to_embed)
    if progress:
        progress(0, total)
    # questions (FAQ, tickets) are embedded like the player's question; everything else as a passage
    to_embed.sort(key=lambda c: embedding_input(c)[1])
    for start in range(0, total, batch_size):
        await _embed_and_store(kb, to_embed[start : start + batch_size])
        if progress:
            progress(min(start + batch_size, total), total)

    # 4. commit the catalog, then drop vectors of chunks that are gone
    revision = await kb.catalog.apply_ingest(kb.tenant, changes)
    stale: dict[str, list[str]] = {}
    for rel in rewritten:
        if rel in known:
            for chunk_id, gate_id in known[rel].chunk_gates.items():
                if chunk_id not in new_ids:
                    stale.setdefault(kb.collection_for(known[rel].kind, gate_id), []).append(chunk_id)
    await _drop_stale(kb, stale)
    report = IngestReport(
        files=len(files),
        files_changed=len(changed),
        files_removed=len(removed),
        documents=len(all_docs),
        chunks_embedded=total,
        chunks_deleted=sum(len(ids) for ids in stale.values()),
        seconds=time.perf_counter() - started,
        revision=revision,
    )
    log.info("kb.ingested", tenant=kb.tenant, root=key, **report.as_dict())
    return report


async def ingest_documents(
    kb: KnowledgeBase,
    docs: Sequence[Document],
    *,
    root: str,
    rel: str,
    chunk_tokens: int = 320,
    chunk_overlap: int = 40,
) -> int:
    """Index documents that do not come from a world folder, as one source ``rel`` under ``root``.

    Used for tickets resolved in the staff console (``root="desk"``, one ``rel`` per
    ticket): chunked, embedded and committed to the catalog exactly like file content, so
    retrieval, gating and the catalog-is-truth rule apply unchanged. Ingesting ``rel``
    again replaces its previous chunks; a world re-ingest never touches another root.
    Returns the new catalog revision.
    """
    check_unique(list(docs))
    owners = await kb.catalog.source_owners(kb.tenant, [d.source_id for d in docs])
    for doc in docs:
        owner = owners.get(doc.source_id)
        if owner is not None and owner != f"{root}::{rel}":
            raise SourceFileError(
                f"duplicate id {doc.source_id!r}: already ingested from {owner.replace('::', '/')}",
                path=doc.source_path,
                field="id",
            )
    known = (await kb.catalog.sources(kb.tenant, root)).get(rel)
    gates: dict[str, GateProfile] = {}
    chunks: list[CatalogChunk] = []
    for doc in docs:
        gate, doc_chunks = chunk_document(
            doc, tenant=kb.tenant, max_tokens=chunk_tokens, overlap=chunk_overlap
        )
        gates[gate.gate_id] = gate
        chunks.extend(doc_chunks)
    old = known.chunk_gates if known else {}
    fresh = [c for c in chunks if c.chunk_id not in old]
    if fresh:
        await _embed_and_store(kb, fresh)
    digest = content_hash(*(c.chunk_id for c in chunks))
    kind = docs[0].kind if docs else "ticket"
    changes = IngestChanges(
        root=root,
        upserts=[SourceChange(rel, kind, digest, tuple(chunks))] if chunks else [],
        deletes=[] if chunks else [rel],
        gates=list(gates.values()),
    )
    revision = await kb.catalog.apply_ingest(kb.tenant, changes)
    new_ids = {c.chunk_id for c in chunks}
    stale: dict[str, list[str]] = {}
    for chunk_id, gate_id in old.items():
        if chunk_id not in new_ids:
            stale.setdefault(kb.collection_for(known.kind if known else kind, gate_id), []).append(chunk_id)
    await _drop_stale(kb, stale)
    log.info(
        "kb.documents_ingested", tenant=kb.tenant, root=root, rel=rel, chunks=len(chunks), revision=revision
    )
    return revision
