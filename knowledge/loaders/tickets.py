"""Resolved support tickets: JSON Lines, one ticket per line."""

from __future__ import annotations

import json
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from knowledge.types import Document
from npc_engine.errors import SourceFileError

__all__ = ["ResolvedTicket", "parse_tickets_jsonl"]


class ResolvedTicket(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    id: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$", max_length=120)
    question: str = Field(min_length=1, max_length=20000)
    resolution: str = Field(min_length=1, max_length=20000)
    category: str = Field(min_length=1, max_length=80)
    locale: str | None = Field(default=None, pattern=r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})?$")
    resolved_at: str | None = None

    def to_document(self, path: Path, default_locale: str) -> Document:
        extra = {"question": self.question, "resolution": self.resolution}
        if self.resolved_at:
            extra["resolved_at"] = self.resolved_at
        return Document(
            kind="ticket",
            doc_id=self.id,
            title=self.question,
            body=self.resolution,
            source_path=str(path),
            locale=self.locale or default_locale,
            category=self.category,
            extra=extra,
        )


def parse_tickets_jsonl(text: str, *, path: Path, default_locale: str = "en") -> list[Document]:
    out: list[Document] = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            raw = json.loads(line)
        except json.JSONDecodeError as exc:
            raise SourceFileError(
                f"invalid JSON: {exc.msg} (column {exc.colno})", path=path, line=number
            ) from None
        try:
            ticket = ResolvedTicket.model_validate(raw)
        except ValidationError as exc:
            first = exc.errors()[0]
            field = ".".join(str(p) for p in first["loc"]) or None
            raise SourceFileError(first["msg"], path=path, line=number, field=field) from None
        out.append(ticket.to_document(path, default_locale))
    if not out:
        raise SourceFileError("no tickets in file", path=path, line=1)
    return out
