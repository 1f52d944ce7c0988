"""Lore documents: Markdown with a YAML front matter carrying the gate.

See the README ("Writing a world", "Lore") for the fields. Errors name the file, the line
and the field (``lore/x.md:4: min_stage: unknown stage 'freind'; known: ...``).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from knowledge.types import Document
from npc_engine.errors import SourceFileError
from npc_engine.yamlio import load_yaml, source_error_from_validation

__all__ = ["LoreFrontMatter", "parse_lore"]

_ID = r"^[A-Za-z0-9][A-Za-z0-9_./-]*$"


class KnownBy(BaseModel):
    model_config = ConfigDict(extra="forbid")
    factions: list[str] = Field(default_factory=list)
    roles: list[str] = Field(default_factory=list)
    npcs: list[str] = Field(default_factory=list)


class LoreFrontMatter(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str | None = Field(default=None, pattern=_ID, max_length=200)
    title: str | None = Field(default=None, max_length=300)
    known_by: Literal["everyone"] | KnownBy = "everyone"
    requires_flags: list[str] = Field(default_factory=list)
    min_stage: str | None = None
    secret: bool = False
    canary: str | None = Field(default=None, min_length=6)
    locale: str = Field(default="en", pattern=r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})?$")
    tags: list[str] = Field(default_factory=list)
    keys: list[str] = Field(default_factory=list)

    @field_validator("requires_flags", "tags", "keys")
    @classmethod
    def _no_blank(cls, values: list[str]) -> list[str]:
        if any(not str(v).strip() for v in values):
            raise ValueError("entries must be non-empty strings")
        return values


def _split_front_matter(text: str, path: Path) -> tuple[str, str, int]:
    """Return (front matter yaml, body, line number of the body's first line)."""
    lines = text.splitlines()
    if not lines or lines[0].strip() != "---":
        raise SourceFileError(
            "a lore file must start with a '---' line opening its YAML front matter", path=path, line=1
        )
    for i in range(1, len(lines)):
        if lines[i].strip() in ("---", "..."):
            return "\n".join(lines[1:i]), "\n".join(lines[i + 1 :]), i + 2
    raise SourceFileError("front matter opened with '---' is never closed", path=path, line=1)


def parse_lore(
    text: str, *, path: Path, rel_id: str, stages: Sequence[str], default_locale: str = "en"
) -> Document:
    """Parse one lore file's text. ``rel_id`` is the default id (path under lore/)."""
    front, body, body_line = _split_front_matter(text, path)
    doc = load_yaml(front or "{}", path=path, line_offset=1)
    if doc.data is None:
        doc.data = {}
    if not isinstance(doc.data, dict):
        raise SourceFileError("front matter must be a YAML mapping", path=path, line=2)
    try:
        fm = LoreFrontMatter.model_validate(doc.data)
    except ValidationError as exc:
        raise source_error_from_validation(exc, doc, path=path) from None

    def fail(field: str, reason: str) -> SourceFileError:
        return SourceFileError(reason, path=path, line=doc.line_of((field,)), field=field)

    if not body.strip():
        raise SourceFileError("lore document has no text after its front matter", path=path, line=body_line)
    min_rank = 0
    if fm.min_stage is not None:
        if fm.min_stage not in stages:
            raise fail("min_stage", f"unknown stage {fm.min_stage!r}; known stages: {', '.join(stages)}")
        min_rank = list(stages).index(fm.min_stage)
    everyone = fm.known_by == "everyone"
    known = fm.known_by if isinstance(fm.known_by, KnownBy) else KnownBy()
    if not everyone and not (known.factions or known.roles or known.npcs):
        raise fail("known_by", "give at least one of factions, roles, npcs, or write 'everyone'")
    if fm.secret:
        if everyone and not fm.requires_flags and min_rank == 0:
            raise fail("secret", "a secret needs a gate: known_by, requires_flags or min_stage")
        if not fm.canary:
            raise fail("canary", "a secret needs a canary phrase that appears in its text")
    if fm.canary and body.count(fm.canary) != 1:
        raise fail("canary", f"the canary {fm.canary!r} must appear exactly once in the text")
    title = fm.title or _first_heading(body) or rel_id.rsplit("/", 1)[-1].replace("-", " ").title()
    gating: dict[str, object] = {
        "everyone": everyone,
        "factions": sorted(known.factions),
        "roles": sorted(known.roles),
        "npcs": sorted(known.npcs),
        "requires_flags": sorted(fm.requires_flags),
        "min_stage_rank": min_rank,
        "secret": fm.secret,
    }
    return Document(
        kind="lore",
        doc_id=fm.id or rel_id,
        title=title,
        body=body.strip(),
        source_path=str(path),
        locale=fm.locale or default_locale,
        tags=tuple(fm.tags),
        keys=tuple(fm.keys),
        gating=gating,
        canary=fm.canary,
    )


def _first_heading(body: str) -> str | None:
    for line in body.splitlines():
        if line.startswith("#"):
            return line.lstrip("#").strip() or None
    return None
