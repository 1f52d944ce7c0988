"""A world folder as a whole: its definition (world.yaml, personas) and its validation.

``validate_world`` parses every file (personas, lore, FAQ, tickets) without embedding
anything and checks what spans files: unique ids, lore gated to persona ids that
exist. It is what ``npc-engine validate`` runs, and what ``ingest`` relies on before it
writes anything.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from knowledge.gating import GateProfile
from knowledge.loaders import check_unique, parse_source, scan_world
from knowledge.types import Document
from npc_engine.errors import SourceFileError
from personas.loader import load_personas, load_world_file
from personas.schema import NpcPersona, SupportPersona, World

__all__ = ["WorldDefinition", "WorldSummary", "definition_digest", "load_world_definition", "validate_world"]

PersonaModel = NpcPersona | SupportPersona


@dataclass(frozen=True, slots=True)
class WorldDefinition:
    root: Path
    world: World
    personas: dict[str, PersonaModel]
    digest: str  # of world.yaml and every persona file


@dataclass(slots=True)
class WorldSummary:
    root: str
    world: str
    personas: list[dict[str, str]]
    documents: dict[str, int]
    warnings: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, object]:
        return {
            "ok": True,
            "root": self.root,
            "world": self.world,
            "personas": self.personas,
            "documents": self.documents,
            "warnings": self.warnings,
        }


def definition_digest(root: Path) -> str:
    """A hash of world.yaml and every persona file (cheap: bytes only, nothing parsed)."""
    h = hashlib.sha256()
    files = [root / "world.yaml", *sorted((root / "personas").glob("*.y*ml"))]
    for path in files:
        if path.is_file():
            h.update(path.relative_to(root).as_posix().encode() + b"\x00" + path.read_bytes() + b"\x00")
    return h.hexdigest()


def load_world_definition(root: Path) -> WorldDefinition:
    """Load world.yaml (defaults when absent) and every persona, checked against the world."""
    if not root.is_dir():
        raise SourceFileError("not a directory (give the world folder)", path=root)
    world_file = root / "world.yaml"
    world = load_world_file(world_file)
    personas_dir = root / "personas"
    found = load_personas(personas_dir, world=world) if personas_dir.is_dir() else {}
    return WorldDefinition(
        root=root.resolve(), world=world, personas=dict(found), digest=definition_digest(root)
    )


def validate_world(root: Path, *, max_bytes: int = 2_000_000) -> WorldSummary:
    """Parse and check the whole world folder; raise ``SourceFileError`` on the first problem."""
    definition = load_world_definition(root)
    stages = definition.world.relationship_stages
    docs: list[Document] = []
    for source in scan_world(root, max_bytes=max_bytes):
        docs.extend(
            parse_source(
                source, stages=stages, default_locale=definition.world.default_locale, max_bytes=max_bytes
            )
        )
    check_unique(docs)
    warnings: list[str] = []
    npc_ids = {p.id for p in definition.personas.values() if isinstance(p, NpcPersona)}
    factions = set(definition.world.factions)
    for doc in docs:
        gate = GateProfile.from_gating(doc.gating)
        for npc in gate.npcs:
            if npc not in npc_ids:
                warnings.append(
                    f"{doc.source_path}: known_by.npcs names {npc!r}, which is not a persona here"
                )
        for faction in gate.factions:
            if factions and faction not in factions:
                warnings.append(f"{doc.source_path}: known_by.factions names {faction!r}, not in world.yaml")
    counts = Counter(d.kind for d in docs)
    return WorldSummary(
        root=str(definition.root),
        world=definition.world.id,
        personas=[
            {"id": p.id, "kind": p.kind, "name": p.name}
            for p in sorted(definition.personas.values(), key=lambda p: p.id)
        ],
        documents={
            "lore": counts.get("lore", 0),
            "faq": counts.get("faq", 0),
            "ticket": counts.get("ticket", 0),
            "secrets": sum(1 for d in docs if GateProfile.from_gating(d.gating).secret),
        },
        warnings=warnings,
    )
