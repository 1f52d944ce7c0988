"""The NPC reply format: its JSON Schema, a tolerant parser, and a streaming text extractor.

Backends that support it are constrained to :func:`reply_schema` (``text`` first, so a
stream shows words early). Others are parsed tolerantly: a JSON object anywhere in the
output (code fences allowed), or plain prose taken as the text. Output that tries to
be JSON but is not is *garbage*: the turn retries, then falls back to the composer.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from personas.schema import EMOTIONS, ActionSpec, NpcPersona

__all__ = ["MAX_REPLY_CHARS", "ParsedReply", "TextStreamExtractor", "parse_reply", "reply_schema"]

MAX_REPLY_CHARS = 600
_FENCE = re.compile(r"^```(?:json)?\s*|\s*```$", re.IGNORECASE)


def reply_schema(persona: NpcPersona) -> dict[str, Any]:
    """The JSON Schema an NPC reply must match: actions from the persona's allow-list, each with its args.

    ``actions.items`` is an ``anyOf`` with one object per allowed action (``name`` a
    ``const``, ``args`` that action's argument schema), so constrained decoding cannot pair
    an action with another's arguments. With no allowed actions, ``actions`` is always empty.
    """
    empty: dict[str, Any] = {"type": "array", "maxItems": 0, "items": {"type": "object"}}
    actions: dict[str, Any] = (
        {
            "type": "array",
            "maxItems": 3,
            "items": {"anyOf": [_action_schema(a) for a in persona.allowed_actions]},
        }
        if persona.allowed_actions
        else empty
    )
    return {
        "type": "object",
        "properties": {
            "text": {"type": "string", "minLength": 1, "maxLength": MAX_REPLY_CHARS},
            "emotion": {"type": "string", "enum": [*EMOTIONS, "neutral"]},
            "actions": actions,
        },
        "required": ["text", "emotion", "actions"],
        "additionalProperties": False,
    }


def _action_schema(action: ActionSpec) -> dict[str, Any]:
    return {
        "type": "object",
        "properties": {"name": {"const": action.name}, "args": _for_decoding(action.args)},
        "required": ["name", "args"],
        "additionalProperties": False,
    }


_ANNOTATIONS = frozenset({"description", "title", "default", "examples"})


def _for_decoding(schema: Mapping[str, Any]) -> dict[str, Any]:
    """An args schema as a decoder grammar takes it: annotations dropped (they cost prompt tokens),
    and a ``pattern`` kept only when anchored (``^...$``) and free of ``(?`` groups, as llama.cpp
    needs; a pattern left out is still enforced when the reply's actions are validated."""
    out: dict[str, Any] = {}
    for key, value in schema.items():
        if key in _ANNOTATIONS:
            continue
        if key == "pattern" and not _grammar_pattern(value):
            continue
        if key == "properties":
            value = {name: _for_decoding(sub) for name, sub in value.items()}
        elif key == "items":
            value = _for_decoding(value)
        out[key] = value
    return out


def _grammar_pattern(pattern: Any) -> bool:
    return (
        isinstance(pattern, str) and pattern.startswith("^") and pattern.endswith("$") and "(?" not in pattern
    )


@dataclass(slots=True)
class ParsedReply:
    text: str
    emotion: str | None = None
    actions: list[Any] = field(default_factory=list)
    structured: bool = False  # a JSON object was found
    problem: str | None = None  # "garbage_json" | "empty" | None


def _object_in(raw: str) -> dict[str, Any] | None:
    candidates = [raw]
    start, end = raw.find("{"), raw.rfind("}")
    if 0 <= start < end:
        candidates.append(raw[start : end + 1])
    for candidate in candidates:
        try:
            value = json.loads(candidate)
        except ValueError:
            continue
        if isinstance(value, dict):
            return value
    return None


def parse_reply(raw: str) -> ParsedReply:
    """Read a model's output as an NPC reply, as tolerantly as is safe."""
    text = _FENCE.sub("", raw.strip()).strip()
    data = _object_in(text)
    if data is None:
        if "{" in text or '"text"' in text:
            salvaged = _salvage(text)
            if salvaged:  # cut off by max_tokens inside "text": keep its complete sentences
                return ParsedReply(text=salvaged)
            return ParsedReply(text="", problem="garbage_json")
        return ParsedReply(text=text, problem=None if text else "empty")
    body = data.get("text", data.get("reply", data.get("message", "")))
    body = body.strip() if isinstance(body, str) else ""
    emotion = data.get("emotion")
    actions = data.get("actions")
    return ParsedReply(
        text=body,
        emotion=emotion.strip().lower() if isinstance(emotion, str) else None,
        actions=list(actions) if isinstance(actions, list) else [],
        structured=True,
        problem=None if body else "empty",
    )


_LAST_SENTENCE_END = re.compile(r"[.!?。！？…](?=[^.!?。！？…]*$)")


def _salvage(raw: str) -> str:
    """The ``text`` field of JSON cut off by ``max_tokens``: whole if it was closed, else its complete sentences."""
    extractor = TextStreamExtractor()
    body = extractor.feed(raw)
    if extractor.state == "done":
        return body.strip()
    if extractor.state != "text":
        return ""
    end = _LAST_SENTENCE_END.search(body)
    return body[: end.end()].strip() if end else ""


_ESCAPES = {'"': '"', "\\": "\\", "/": "/", "b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t"}
_TEXT_KEY = re.compile(
    r'^\s*\{\s*(?:"(?:[^"\\]|\\.)*"\s*:\s*(?:"(?:[^"\\]|\\.)*"|[-0-9.eE+]+|true|false|null)\s*,\s*)*'
    r'"text"\s*:\s*"',
    re.DOTALL,
)


class TextStreamExtractor:
    """Feed raw model deltas; get back the decoded characters of the reply's ``text`` field.

    A stream that does not start with ``{`` is prose and passes through unchanged.
    """

    def __init__(self) -> None:
        self._buf = ""
        self._mode = "start"  # start | seek | text | done | plain
        self._pending = ""  # an incomplete escape sequence

    @property
    def state(self) -> str:
        """``start``, ``seek`` (before the text), ``text`` (inside it), ``done`` or ``plain``."""
        return self._mode

    def feed(self, delta: str) -> str:
        if self._mode == "plain":
            return delta
        if self._mode == "done":
            return ""
        if self._mode in ("start", "seek"):
            self._buf += delta
            stripped = self._buf.lstrip()
            if self._mode == "start" and stripped:
                if not stripped.startswith(("{", "```")):
                    self._mode = "plain"
                    return self._buf
                self._mode = "seek"
            body = _FENCE.sub("", stripped) if stripped.startswith("```") else self._buf
            match = _TEXT_KEY.match(body)
            if match is None:
                return ""
            self._mode = "text"
            rest, self._buf = body[match.end() :], ""
            return self._decode(rest)
        return self._decode(delta)

    def _decode(self, chunk: str) -> str:
        out: list[str] = []
        data = self._pending + chunk
        self._pending = ""
        i = 0
        while i < len(data):
            ch = data[i]
            if ch == '"':
                self._mode = "done"
                break
            if ch != "\\":
                out.append(ch)
                i += 1
                continue
            if i + 1 >= len(data):
                self._pending = data[i:]
                break
            code = data[i + 1]
            if code == "u":
                if i + 6 > len(data):
                    self._pending = data[i:]
                    break
                point = _hex(data[i + 2 : i + 6])
                if 0xD800 <= point < 0xDC00:  # a surrogate pair needs the second half
                    if i + 12 > len(data):
                        self._pending = data[i:]
                        break
                    low = _hex(data[i + 8 : i + 12])
                    if 0xDC00 <= low < 0xE000:
                        out.append(chr(0x10000 + ((point - 0xD800) << 10) + (low - 0xDC00)))
                        i += 12
                        continue
                out.append(chr(point) if 0 <= point < 0xD800 or 0xE000 <= point <= 0x10FFFF else "\ufffd")
                i += 6
                continue
            out.append(_ESCAPES.get(code, code))
            i += 2
        return "".join(out)


def _hex(digits: str) -> int:
    try:
        return int(digits, 16)
    except ValueError:
        return 0xFFFD
