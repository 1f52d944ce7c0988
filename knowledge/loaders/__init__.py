"""Find a world's knowledge files and parse them into :class:`~knowledge.types.Document`.

``scan_world`` only lists files and hashes their bytes (cheap: re-ingest of an
unchanged world parses nothing); ``parse_source`` parses one file on demand.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from knowledge.loaders.faq import parse_faq_csv, parse_faq_yaml
from knowledge.loaders.lore import parse_lore
from knowledge.loaders.tickets import parse_tickets_jsonl
from knowledge.types import Document, Kind
from npc_engine.errors import SourceFileError
from npc_engine.yamlio import read_text_file

__all__ = ["LOADER_VERSION", "SourceFile", "parse_source", "scan_world"]

# bump when parsing or chunking changes what a file produces, to force re-ingest
LOADER_VERSION = "1"

_PATTERNS: dict[Kind, tuple[str, ...]] = {
    "lore": ("lore/**/*.md",),
    "faq": ("faq/**/*.yaml", "faq/**/*.yml", "faq/**/*.csv"),
    "ticket": ("tickets/**/*.jsonl",),
}


@dataclass(frozen=True, slots=True)
class SourceFile:
    kind: Kind
    path: Path
    rel: str  # path relative to the world root, with '/'
    digest: str  # sha256 of the bytes + loader version


def scan_world(root: Path, *, max_bytes: int) -> list[SourceFile]:
    """List the knowledge files under ``root`` (sorted), hashing their bytes."""
    if not root.is_dir():
        raise SourceFileError("not a directory (give the world folder)", path=root)
    found: list[SourceFile] = []
    for kind, patterns in _PATTERNS.items():
        seen: set[Path] = set()
        for pattern in patterns:
            for path in sorted(root.glob(pattern)):
                if path in seen or not path.is_file() or any(p.startswith(".") for p in path.parts[-3:]):
                    continue
                seen.add(path)
                size = path.stat().st_size
                if size > max_bytes:
                    raise SourceFileError(
                        f"file is {size:,} bytes, over the {max_bytes:,}-byte limit "
                        "(split it, or raise NPC_MAX_FILE_BYTES)",
                        path=path,
                    )
                digest = hashlib.sha256(path.read_bytes() + LOADER_VERSION.encode()).hexdigest()
                found.append(SourceFile(kind, path, path.relative_to(root).as_posix(), digest))
    return found


def parse_source(
    source: SourceFile, *, stages: Sequence[str], default_locale: str, max_bytes: int
) -> list[Document]:
    """Parse one file; raise :class:`SourceFileError` naming file, line and field."""
    text = read_text_file(source.path, max_bytes=max_bytes)
    if source.kind == "lore":
        rel_id = source.rel.removeprefix("lore/").removesuffix(".md")
        return [
            parse_lore(text, path=source.path, rel_id=rel_id, stages=stages, default_locale=default_locale)
        ]
    if source.kind == "faq":
        if source.path.suffix == ".csv":
            return parse_faq_csv(text, path=source.path, default_locale=default_locale)
        return parse_faq_yaml(text, path=source.path, default_locale=default_locale)
    return parse_tickets_jsonl(text, path=source.path, default_locale=default_locale)


def check_unique(documents: Sequence[Document]) -> None:
    """Two documents with the same source id is an error naming both files."""
    seen: dict[str, Document] = {}
    for doc in documents:
        other = seen.get(doc.source_id)
        if other is not None:
            raise SourceFileError(
                f"duplicate id {doc.source_id!r}: also defined in {other.source_path}",
                path=doc.source_path,
                field="id",
            )
        seen[doc.source_id] = doc
