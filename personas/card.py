"""Import a SillyTavern character card as an NPC persona plus lore drafts.

Accepted: Character Card V2 JSON (``{"spec": "chara_card_v2", "data": {...}}``), the
same shape with ``spec: chara_card_v3``, flat V1 cards (``name``, ``description``,
``personality``, ...), and PNG cards carrying one of these in a ``chara`` (or
``ccv3``) text chunk.

How a card maps onto the world format:

=========================  ==================================================================
card                       npc-engine
=========================  ==================================================================
``name``                   ``name``; ``id`` is its slug (or ``persona_id=``)
``description, scenario``  ``backstory`` (joined by a blank line)
``personality``            ``traits`` (split on commas, semicolons and new lines)
``first_mes, mes_example`` ``speech_style.notes`` (trimmed examples of how the character talks)
``character_book``         one :class:`LoreDraft` per enabled entry, known only to this NPC
                           (``known_by: {npcs: [id]}``); entry ``keys`` kept as ``keys:``
=========================  ==================================================================

``{{char}}`` / ``<BOT>`` become the character's name and ``{{user}}`` / ``<USER>``
"the player". ``system_prompt``, ``post_history_instructions``, alternate greetings
and extensions are **not** imported: a card must not inject instructions into the
engine's prompt. What was left out is listed in :attr:`CardImport.notes`.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
import unicodedata
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any

import yaml
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError

from npc_engine.errors import InvalidInputError, SourceFileError
from npc_engine.yamlio import YamlDoc, load_yaml, read_text_file, source_error_from_validation
from personas.dump import persona_to_yaml
from personas.loader import DEFAULT_MAX_FILE_BYTES
from personas.schema import NpcPersona, SpeechStyle

__all__ = [
    "CardImport",
    "LoreDraft",
    "card_from_dict",
    "import_card",
    "load_card",
    "persona_to_yaml",
    "slugify",
]

_Text = Annotated[str, BeforeValidator(lambda v: "" if v is None else v)]
_Strings = Annotated[list[str], BeforeValidator(lambda v: [] if v is None else v)]
_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_SPECS = ("chara_card_v2", "chara_card_v3")
_NOTE_LIMIT = 700


class _BookEntry(BaseModel):
    model_config = ConfigDict(extra="allow")

    keys: _Strings = Field(default_factory=list)
    content: _Text = ""
    enabled: bool = True
    insertion_order: int = 0
    name: _Text = ""
    comment: _Text = ""


class _Book(BaseModel):
    model_config = ConfigDict(extra="allow")

    entries: list[_BookEntry] = Field(default_factory=list)


class _CardData(BaseModel):
    model_config = ConfigDict(extra="allow")

    name: Annotated[str, Field(min_length=1)]
    description: _Text = ""
    personality: _Text = ""
    scenario: _Text = ""
    first_mes: _Text = ""
    mes_example: _Text = ""
    system_prompt: _Text = ""
    post_history_instructions: _Text = ""
    alternate_greetings: _Strings = Field(default_factory=list)
    character_book: _Book | None = None
    tags: _Strings = Field(default_factory=list)


class LoreDraft(BaseModel):
    """A lore document made from one lorebook entry; write :meth:`to_markdown` to ``lore/<relative_path>``."""

    model_config = ConfigDict(extra="forbid")

    id: str
    title: str
    body: str
    tags: list[str] = Field(default_factory=list)
    keys: list[str] = Field(default_factory=list)
    known_by: list[str] = Field(default_factory=list, description="NPC ids that know this lore.")
    locale: str | None = None

    @property
    def relative_path(self) -> Path:
        """Where under ``lore/`` the file goes so that its default id is :attr:`id`."""
        return Path(f"{self.id}.md")

    def to_markdown(self) -> str:
        """The lore file: YAML front matter (the world format's gating keys) and the body."""
        front: dict[str, Any] = {
            "id": self.id,
            "title": self.title,
            "known_by": {"npcs": list(self.known_by)} if self.known_by else "everyone",
            "requires_flags": [],
            "min_stage": None,
            "secret": False,
        }
        if self.locale:
            front["locale"] = self.locale
        front["tags"] = list(self.tags)
        front["keys"] = list(self.keys)
        header = yaml.safe_dump(
            front, sort_keys=False, allow_unicode=True, width=100, default_flow_style=None
        )
        body = self.body.strip()
        if not body.startswith("#"):
            body = f"# {self.title}\n\n{body}"
        return f"---\n{header}---\n{body}\n"


class CardImport(BaseModel):
    """The result of importing a card."""

    persona: NpcPersona
    lore: list[LoreDraft] = Field(default_factory=list)
    notes: list[str] = Field(default_factory=list, description="What was not imported, and why.")
    source: str | None = Field(default=None, description="The card file it came from.")

    def files(self) -> dict[Path, str]:
        """File contents by path relative to the world folder."""
        header = f"Imported from {Path(self.source).name} by npc-engine import-card." if self.source else None
        out = {Path("personas") / f"{self.persona.id}.yaml": persona_to_yaml(self.persona, header=header)}
        for draft in self.lore:
            out[Path("lore") / draft.relative_path] = draft.to_markdown()
        return out

    def write_to(self, world_dir: str | Path, *, overwrite: bool = False) -> list[Path]:
        """Write the persona and lore files into ``world_dir``; returns the paths written.

        Nothing is written when a target exists and ``overwrite`` is false.
        """
        root = Path(world_dir)
        files = {root / rel: text for rel, text in self.files().items()}
        if not overwrite:
            for target in files:
                if target.exists():
                    raise SourceFileError("already exists; pass --overwrite to replace it", path=target)
        for target, text in files.items():
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(text, encoding="utf-8")
        return list(files)


def import_card(
    path: str | Path,
    *,
    persona_id: str | None = None,
    locale: str | None = None,
    max_bytes: int = DEFAULT_MAX_FILE_BYTES,
) -> CardImport:
    """Import a card file (``.json`` or ``.png``); :class:`SourceFileError` if it is not a valid card."""
    path = Path(path)
    if path.suffix.lower() == ".png":
        text = _text_from_png(path, max_bytes)
    else:
        text = read_text_file(path, max_bytes=max_bytes)
    try:
        raw = json.loads(text)
    except json.JSONDecodeError as exc:
        raise SourceFileError(
            f"invalid JSON: {exc.msg} (column {exc.colno})", path=path, line=exc.lineno
        ) from None
    imported = card_from_dict(
        raw, path=path, persona_id=persona_id, locale=locale, _lines=_json_lines(text, path)
    )
    return imported.model_copy(update={"source": str(path)})


load_card = import_card
"""Alias of :func:`import_card`."""


def card_from_dict(
    card: Any,
    *,
    path: str | Path = "<card>",
    persona_id: str | None = None,
    locale: str | None = None,
    _lines: YamlDoc | None = None,
) -> CardImport:
    """Import an already-parsed card (V2/V3 wrapper or flat V1)."""
    if not isinstance(card, Mapping):
        raise SourceFileError(f"a character card must be a JSON object, got {type(card).__name__}", path=path)
    prefix: tuple[str, ...]
    if "spec" in card:
        if card["spec"] not in _SPECS:
            raise SourceFileError(
                f"unsupported card spec {card['spec']!r}; expected one of {', '.join(_SPECS)} or a V1 card",
                path=path,
                line=_lines.line_of(("spec",)) if _lines else None,
                field="spec",
            )
        body, prefix = card.get("data"), ("data",)
        if not isinstance(body, Mapping):
            line = _lines.line_of(("data",)) if _lines else None
            raise SourceFileError(
                "must be an object holding the character", path=path, line=line, field="data"
            )
    else:
        body, prefix = card, ()
    try:
        data = _CardData.model_validate(body)
    except ValidationError as exc:
        doc = _lines.at(prefix) if _lines else YamlDoc(None, {}, path=str(path))
        err = source_error_from_validation(exc, doc, path=path)
        field = ".".join(str(part) for part in (*prefix, *exc.errors()[0]["loc"]))
        raise SourceFileError(err.reason, path=path, line=err.line, field=field) from None
    return _convert(data, persona_id=persona_id, locale=locale, path=path)


def _convert(data: _CardData, *, persona_id: str | None, locale: str | None, path: str | Path) -> CardImport:
    name = " ".join(data.name.split())
    pid = persona_id if persona_id is not None else slugify(name) or "character"
    if not re.fullmatch(r"[a-z0-9][a-z0-9_-]*", pid) or len(pid) > 64:
        raise InvalidInputError(f"persona id {pid!r} must match [a-z0-9][a-z0-9_-]* (at most 64 characters)")

    def text(value: str) -> str:
        return _expand_macros(value, name).strip()

    backstory = "\n\n".join(part for part in (text(data.description), text(data.scenario)) if part)
    persona = NpcPersona(
        kind="npc",
        id=pid,
        name=name,
        backstory=backstory,
        traits=_traits(text(data.personality)),
        speech_style=SpeechStyle(notes=_speech_notes(text(data.first_mes), text(data.mes_example))),
    )
    notes: list[str] = []
    for field in ("system_prompt", "post_history_instructions"):
        if getattr(data, field).strip():
            notes.append(f"{field} not imported: cards may not add instructions to the prompt")
    if data.alternate_greetings:
        notes.append(f"{len(data.alternate_greetings)} alternate greeting(s) not imported")
    lore: list[LoreDraft] = []
    entries = data.character_book.entries if data.character_book else []
    used: set[str] = set()
    order = sorted(range(len(entries)), key=lambda i: (entries[i].insertion_order, i))
    for index in order:
        entry = entries[index]
        if not entry.enabled or not entry.content.strip():
            notes.append(
                f"lorebook entry {index + 1} skipped ({'disabled' if not entry.enabled else 'empty'})"
            )
            continue
        keys = [k.strip() for k in entry.keys if k.strip()]
        title = " ".join((entry.name or entry.comment or (keys[0] if keys else f"Entry {index + 1}")).split())
        slug = slugify(title) or f"entry-{index + 1}"
        unique, n = slug, 2
        while unique in used:
            unique, n = f"{slug}-{n}", n + 1
        used.add(unique)
        lore.append(
            LoreDraft(
                id=f"{pid}/{unique}",
                title=title,
                body=text(entry.content),
                tags=[pid, "lorebook"],
                keys=keys,
                known_by=[pid],
                locale=locale,
            )
        )
    return CardImport(persona=persona, lore=lore, notes=notes)


def slugify(text: str, *, max_length: int = 64) -> str:
    """``"Brannoc Emberhand"`` -> ``"brannoc-emberhand"`` (ASCII, may be empty)."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")
    return slug[:max_length].rstrip("-")


def _json_lines(text: str, path: Path) -> YamlDoc | None:
    """Node lines of a JSON text (JSON is nearly always valid YAML); ``None`` when not."""
    try:
        return load_yaml(text, path=path)
    except SourceFileError:
        return None


def _text_from_png(path: Path, max_bytes: int) -> str:
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise SourceFileError(f"cannot read file: {exc.strerror or exc}", path=path) from None
    if len(raw) > max_bytes:
        raise SourceFileError(
            f"file is too big: {len(raw):,} bytes, the limit is {max_bytes:,} bytes "
            "(raise it with NPC_MAX_FILE_BYTES)",
            path=path,
        )
    if not raw.startswith(_PNG_SIGNATURE):
        raise SourceFileError("not a PNG file", path=path)
    found: dict[bytes, bytes] = {}
    pos = len(_PNG_SIGNATURE)
    while pos + 8 <= len(raw):
        length = int.from_bytes(raw[pos : pos + 4], "big")
        kind = raw[pos + 4 : pos + 8]
        chunk = raw[pos + 8 : pos + 8 + length]
        pos += 12 + length
        if kind == b"tEXt":
            keyword, _, value = chunk.partition(b"\x00")
            found.setdefault(keyword.lower(), value)
        elif kind == b"IEND":
            break
    payload = found.get(b"chara") or found.get(b"ccv3")
    if payload is None:
        raise SourceFileError("PNG has no character card (no 'chara' text chunk)", path=path)
    try:
        return base64.b64decode(payload, validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        raise SourceFileError("the PNG's 'chara' chunk is not base64 UTF-8 JSON", path=path) from None


def _expand_macros(text: str, name: str) -> str:
    text = re.sub(r"\{\{\s*char\s*\}\}|<BOT>", lambda _m: name, text, flags=re.IGNORECASE)

    def player(match: re.Match[str]) -> str:
        before = match.string[: match.start()].rstrip(" *\"'_")
        return "The player" if not before or before[-1] in ".!?\n" else "the player"

    return re.sub(r"\{\{\s*user\s*\}\}|<USER>", player, text, flags=re.IGNORECASE)


def _traits(personality: str) -> list[str]:
    traits: list[str] = []
    for part in re.split(r"[,;\n]", personality):
        trait = part.strip().strip(".").strip()
        if trait and trait.lower() not in (t.lower() for t in traits):
            traits.append(trait[:80])
    return traits[:20]


def _speech_notes(first_mes: str, mes_example: str) -> str:
    parts = []
    if first_mes:
        parts.append(f"Example greeting: {_trim(first_mes, 300)}")
    examples = "\n".join(
        line.strip()
        for line in mes_example.splitlines()
        if line.strip() and line.strip().upper() != "<START>"
    )
    if examples:
        parts.append(f"Example dialogue:\n{_trim(examples, _NOTE_LIMIT - 300)}")
    return "\n".join(parts)


def _trim(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    space = cut.rfind(" ")
    return (cut[:space] if space > limit // 2 else cut).rstrip() + "…"
