"""The inputs that change affect, and their stable JSON form for the event log.

:data:`Event` is a tagged union of three frozen dataclasses; the tag is ``kind``
(a class attribute, and the ``"kind"`` key in JSON):

* :class:`GameEvent` (``"game"``): something happened in the game (``gift_received``,
  ``attacked``, ...). Its impact is looked up in the persona's ``reactions`` and scaled
  by ``magnitude`` (>= 0).
* :class:`MessageAppraisal` (``"message"``): deltas read off the player's message by
  :func:`~npc_engine.affect.appraisal.appraise`.
* :class:`ModelNudge` (``"nudge"``): the emotion the model said the NPC shows; a bounded
  nudge, never a replacement.

``at`` is game time in seconds, supplied by the caller (nothing here reads a clock).
Constructors validate (finite numbers, known names, deltas in -1..1) and raise
:class:`~npc_engine.errors.InvalidInputError`; :func:`event_from_json` raises the same
for a malformed log entry. JSON floats round-trip exactly (``repr`` is shortest
round-trip), so ``event_from_json(event_to_json(e)) == e``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, ClassVar, TypeAlias

from npc_engine.errors import InvalidInputError
from personas.schema import AXES, EMOTIONS

__all__ = ["Event", "GameEvent", "MessageAppraisal", "ModelNudge", "event_from_json", "event_to_json"]


def _finite(name: str, value: float) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise InvalidInputError(f"{name} must be a finite number, got {value!r}")
    return float(value)


def _deltas(what: str, values: Mapping[str, float], names: tuple[str, ...]) -> Mapping[str, float]:
    """Validated deltas in canonical order, zeros dropped, as a read-only mapping."""
    unknown = sorted(set(values) - set(names))
    if unknown:
        raise InvalidInputError(f"unknown {what} name(s) {unknown}; expected some of {list(names)}")
    out: dict[str, float] = {}
    for name in names:
        if name in values:
            value = _finite(f"{what} delta {name}", values[name])
            if not -1.0 <= value <= 1.0:
                raise InvalidInputError(f"{what} delta {name} must be in -1..1, got {value!r}")
            if value != 0.0:
                out[name] = value
    return MappingProxyType(out)


@dataclass(frozen=True, slots=True)
class GameEvent:
    """A game event of ``type`` at time ``at``; its impact is ``persona.reactions[type] * magnitude``."""

    kind: ClassVar[str] = "game"
    type: str
    at: float
    magnitude: float = 1.0

    def __post_init__(self) -> None:
        if not isinstance(self.type, str) or not self.type:
            raise InvalidInputError(f"game event type must be a non-empty string, got {self.type!r}")
        object.__setattr__(self, "at", _finite("event time", self.at))
        magnitude = _finite("event magnitude", self.magnitude)
        if magnitude < 0.0:
            raise InvalidInputError(f"event magnitude must be >= 0, got {magnitude!r}")
        object.__setattr__(self, "magnitude", magnitude)


@dataclass(frozen=True, slots=True)
class MessageAppraisal:
    """Emotion and relationship deltas read from a player's message, and the categories that matched."""

    kind: ClassVar[str] = "message"
    at: float
    emotion: Mapping[str, float] = field(default_factory=dict, hash=False)
    relationship: Mapping[str, float] = field(default_factory=dict, hash=False)
    matched: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "at", _finite("event time", self.at))
        object.__setattr__(self, "emotion", _deltas("emotion", self.emotion, EMOTIONS))
        object.__setattr__(self, "relationship", _deltas("relationship", self.relationship, AXES))
        object.__setattr__(self, "matched", tuple(str(m) for m in self.matched))


@dataclass(frozen=True, slots=True)
class ModelNudge:
    """The model's reported emotion ``label`` at ``intensity`` (0..1, clamped)."""

    kind: ClassVar[str] = "nudge"
    at: float
    label: str
    intensity: float

    def __post_init__(self) -> None:
        object.__setattr__(self, "at", _finite("event time", self.at))
        if not isinstance(self.label, str):
            raise InvalidInputError(f"nudge label must be a string, got {self.label!r}")
        # the model's number is untrusted: out-of-range is clamped, not an error
        intensity = _finite("nudge intensity", self.intensity)
        object.__setattr__(self, "intensity", min(1.0, max(0.0, intensity)))


Event: TypeAlias = GameEvent | MessageAppraisal | ModelNudge
"""Any input to :func:`~npc_engine.affect.dynamics.step`."""


def event_to_json(event: Event) -> dict[str, Any]:
    """The event as a JSON-ready dict, tagged with ``"kind"``; keys in a fixed order."""
    if isinstance(event, GameEvent):
        return {"kind": event.kind, "at": event.at, "type": event.type, "magnitude": event.magnitude}
    if isinstance(event, MessageAppraisal):
        return {
            "kind": event.kind,
            "at": event.at,
            "emotion": dict(event.emotion),
            "relationship": dict(event.relationship),
            "matched": list(event.matched),
        }
    if isinstance(event, ModelNudge):
        return {"kind": event.kind, "at": event.at, "label": event.label, "intensity": event.intensity}
    raise InvalidInputError(f"not an affect event: {event!r}")


def event_from_json(data: Mapping[str, Any]) -> Event:
    """Inverse of :func:`event_to_json`; :class:`InvalidInputError` for anything malformed."""
    if not isinstance(data, Mapping):
        raise InvalidInputError(f"an affect event must be a JSON object, got {type(data).__name__}")
    kind = data.get("kind")
    try:
        if kind == GameEvent.kind:
            return GameEvent(type=data["type"], at=data["at"], magnitude=data.get("magnitude", 1.0))
        if kind == MessageAppraisal.kind:
            return MessageAppraisal(
                at=data["at"],
                emotion=dict(data.get("emotion", {})),
                relationship=dict(data.get("relationship", {})),
                matched=tuple(data.get("matched", ())),
            )
        if kind == ModelNudge.kind:
            return ModelNudge(at=data["at"], label=data["label"], intensity=data["intensity"])
    except KeyError as exc:
        raise InvalidInputError(f"affect event of kind {kind!r} lacks {exc.args[0]!r}") from None
    except (TypeError, ValueError) as exc:
        raise InvalidInputError(f"malformed affect event of kind {kind!r}: {exc}") from None
    raise InvalidInputError(f"unknown affect event kind {kind!r}; expected 'game', 'message' or 'nudge'")
