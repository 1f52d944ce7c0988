"""FAQ entries from YAML (a list, or ``entries:`` holding one) or CSV."""

from __future__ import annotations

import csv
import io
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from knowledge.types import Document
from npc_engine.errors import SourceFileError
from npc_engine.yamlio import load_yaml, source_error_from_validation

__all__ = ["FaqEntry", "parse_faq_csv", "parse_faq_yaml"]

_ID = r"^[A-Za-z0-9][A-Za-z0-9_.-]*$"
_CSV_COLUMNS = ("id", "question", "answer", "category", "locale", "tags")


class FaqEntry(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    id: str = Field(pattern=_ID, max_length=120)
    question: str = Field(min_length=1, max_length=2000)
    answer: str = Field(min_length=1, max_length=20000)
    category: str = Field(min_length=1, max_length=80)
    locale: str | None = Field(default=None, pattern=r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})?$")
    tags: list[str] = Field(default_factory=list)

    def to_document(self, path: Path, default_locale: str) -> Document:
        return Document(
            kind="faq",
            doc_id=self.id,
            title=self.question,
            body=self.answer,
            source_path=str(path),
            locale=self.locale or default_locale,
            category=self.category,
            tags=tuple(self.tags),
            extra={"question": self.question, "answer": self.answer},
        )


def parse_faq_yaml(text: str, *, path: Path, default_locale: str = "en") -> list[Document]:
    doc = load_yaml(text, path=path)
    data = doc.data
    prefix: tuple[str, ...] = ()
    if isinstance(data, dict) and set(data) == {"entries"}:
        data, prefix = data["entries"], ("entries",)
    if not isinstance(data, list) or not data:
        raise SourceFileError(
            "an FAQ file must be a non-empty YAML list of entries (or 'entries:' holding one)",
            path=path,
            line=1,
        )
    out: list[Document] = []
    for i, raw in enumerate(data):
        try:
            entry = FaqEntry.model_validate(raw)
        except ValidationError as exc:
            raise source_error_from_validation(exc, doc, path=path, prefix=(*prefix, i)) from None
        out.append(entry.to_document(path, default_locale))
    return out


def parse_faq_csv(text: str, *, path: Path, default_locale: str = "en") -> list[Document]:
    reader = csv.DictReader(io.StringIO(text, newline=""))
    header = reader.fieldnames or []
    missing = [c for c in ("id", "question", "answer", "category") if c not in header]
    if missing:
        raise SourceFileError(
            f"CSV header must include {', '.join(missing)} (columns: id,question,answer,category,locale)",
            path=path,
            line=1,
        )
    unknown = [c for c in header if c not in _CSV_COLUMNS]
    if unknown:
        raise SourceFileError(f"unknown CSV column(s): {', '.join(unknown)}", path=path, line=1)
    out: list[Document] = []
    try:
        for row in reader:
            line = reader.line_num
            if None in row:
                raise SourceFileError("row has more fields than the header", path=path, line=line)
            values: dict[str, object] = {k: v for k, v in row.items() if v not in (None, "")}
            if "tags" in values:
                values["tags"] = [t.strip() for t in str(values["tags"]).split(",") if t.strip()]
            try:
                entry = FaqEntry.model_validate(values)
            except ValidationError as exc:
                first = exc.errors()[0]
                field = ".".join(str(p) for p in first["loc"]) or None
                raise SourceFileError(first["msg"], path=path, line=line, field=field) from None
            out.append(entry.to_document(path, default_locale))
    except csv.Error as exc:
        raise SourceFileError(f"malformed CSV: {exc}", path=path, line=reader.line_num) from None
    if not out:
        raise SourceFileError("CSV file has a header but no entries", path=path, line=1)
    return out
