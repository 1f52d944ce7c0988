"""Load persona files and ``world.yaml`` with errors that say ``file:line: field: reason``.

* :func:`load_persona` reads one ``personas/*.yaml`` file. ``kind`` picks the model
  (``npc`` or ``support``) before validation, so errors name the real field path.
* :func:`load_personas` reads a folder's ``*.yaml`` / ``*.yml`` files (not
  recursively, dot-files skipped); two files declaring the same ``id`` is an error
  naming both. Given a ``world``, each persona is also checked against it.
* :func:`load_world_file` reads ``world.yaml``; a world without one gets the
  defaults of :class:`~personas.schema.World`.
* :func:`persona_json_schema` is the JSON Schema of both kinds, for editors.

Every problem with a persona file (unreadable, bad YAML, schema) is a
:class:`~npc_engine.errors.PersonaError`; ``world.yaml`` problems are
:class:`~npc_engine.errors.SourceFileError`.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

from pydantic import TypeAdapter, ValidationError

from npc_engine.errors import PersonaError, SourceFileError
from npc_engine.yamlio import YamlDoc, load_yaml, read_text_file, source_error_from_validation
from personas.schema import NpcPersona, Persona, SupportPersona, World, world_problems

__all__ = [
    "DEFAULT_MAX_FILE_BYTES",
    "PERSONA_KINDS",
    "load_persona",
    "load_personas",
    "load_world_file",
    "persona_json_schema",
]

DEFAULT_MAX_FILE_BYTES = 2_000_000
"""The world format's file-size limit; ``Settings.max_file_bytes`` (``NPC_MAX_FILE_BYTES``) overrides it."""

PERSONA_KINDS: dict[str, type[NpcPersona] | type[SupportPersona]] = {
    "npc": NpcPersona,
    "support": SupportPersona,
}
_SUFFIXES = (".yaml", ".yml")
_ALLOWED_KINDS = ", ".join(repr(kind) for kind in PERSONA_KINDS)


def load_persona(path: str | Path, *, max_bytes: int = DEFAULT_MAX_FILE_BYTES) -> NpcPersona | SupportPersona:
    """Load and validate one persona file."""
    persona, _doc = _load_persona_doc(Path(path), max_bytes)
    return persona


def load_personas(
    directory: str | Path,
    *,
    world: World | None = None,
    max_bytes: int = DEFAULT_MAX_FILE_BYTES,
) -> dict[str, NpcPersona | SupportPersona]:
    """Load every persona file in ``directory``, keyed by persona id (in file-name order)."""
    directory = Path(directory)
    if not directory.is_dir():
        raise SourceFileError("personas folder not found (or not a folder)", path=directory)
    files = sorted(
        p
        for p in directory.iterdir()
        if p.suffix.lower() in _SUFFIXES and p.is_file() and not p.name.startswith(".")
    )
    personas: dict[str, NpcPersona | SupportPersona] = {}
    origin: dict[str, Path] = {}
    for file in files:
        persona, doc = _load_persona_doc(file, max_bytes)
        if persona.id in origin:
            raise PersonaError(
                f"duplicate persona id {persona.id!r}: also defined in {origin[persona.id]}",
                path=file,
                line=doc.line_of(("id",)),
                field="id",
            )
        if world is not None:
            problems = world_problems(persona, world)
            if problems:
                loc, reason = problems[0]
                raise PersonaError(
                    reason, path=file, line=doc.line_of(loc), field=".".join(str(part) for part in loc)
                )
        personas[persona.id] = persona
        origin[persona.id] = file
    return personas


def load_world_file(path: str | Path, *, max_bytes: int = DEFAULT_MAX_FILE_BYTES) -> World:
    """Load ``world.yaml`` (``path`` may be the file or the world folder); defaults when absent."""
    path = Path(path)
    if path.is_dir():
        path = path / "world.yaml"
    if not path.exists():
        return World()
    text = read_text_file(path, max_bytes=max_bytes)
    doc = load_yaml(text, path=path)
    if not isinstance(doc.data, dict):
        raise SourceFileError(
            f"world.yaml must be a mapping (key: value), got {_kind_of(doc.data)}",
            path=path,
            line=doc.line_of(()),
        )
    try:
        return World.model_validate(doc.data)
    except ValidationError as exc:
        raise source_error_from_validation(exc, doc, path=path) from None


def persona_json_schema() -> dict[str, Any]:
    """JSON Schema (draft 2020-12) of a persona file, either kind."""
    schema = _persona_adapter().json_schema()
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "npc-engine persona",
        "description": "A persona file: an NPC (kind: npc) or a support agent (kind: support).",
        **schema,
    }


@cache
def _persona_adapter() -> TypeAdapter[Any]:
    return TypeAdapter(Persona)


def _load_persona_doc(path: Path, max_bytes: int) -> tuple[NpcPersona | SupportPersona, YamlDoc]:
    try:
        text = read_text_file(path, max_bytes=max_bytes)
        doc = load_yaml(text, path=path)
    except SourceFileError as exc:
        if isinstance(exc, PersonaError):
            raise
        raise PersonaError(exc.reason, path=exc.path, line=exc.line, field=exc.field) from None
    data = doc.data
    if not isinstance(data, dict):
        raise PersonaError(
            f"a persona file must be a mapping (key: value), got {_kind_of(data)}",
            path=path,
            line=doc.line_of(()),
        )
    if "kind" not in data:
        raise PersonaError(
            f"missing; a persona needs kind: one of {_ALLOWED_KINDS}",
            path=path,
            line=doc.line_of(()),
            field="kind",
        )
    kind = data["kind"]
    model = PERSONA_KINDS.get(kind) if isinstance(kind, str) else None
    if model is None:
        raise PersonaError(
            f"must be one of {_ALLOWED_KINDS}, got {kind!r}",
            path=path,
            line=doc.line_of(("kind",)),
            field="kind",
        )
    try:
        return model.model_validate(data), doc
    except ValidationError as exc:
        raise source_error_from_validation(exc, doc, path=path, error_cls=PersonaError) from None


def _kind_of(value: object) -> str:
    if value is None:
        return "nothing"
    if isinstance(value, list):
        return "a list"
    return f"a {type(value).__name__}"
