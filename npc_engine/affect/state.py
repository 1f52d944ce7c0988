"""Affect state: what one NPC feels, and where it stands with one player.

Three frozen values, so a state can be shared, compared with ``==`` and never
changed behind a caller's back:

* :class:`EmotionState`: Plutchik's eight intensities (:data:`~personas.schema.EMOTIONS`),
  each 0..1.
* :class:`Relationship`: the axes :data:`~personas.schema.AXES` (trust, respect,
  familiarity), each -1..1.
* :class:`AffectState`: both, plus ``updated_at``, the game time in seconds the state
  was last brought up to date (decay is driven by the time since then).

Constructors check ranges and reject NaN and infinities (:class:`InvalidInputError`);
the dynamics clamp, so a valid state only ever produces valid states.
:func:`state_to_json` / :func:`state_from_json` are the storage form (floats round-trip
exactly through JSON).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from npc_engine.errors import InvalidInputError
from personas.schema import AXES, EMOTIONS, NpcPersona

__all__ = [
    "NEUTRAL_THRESHOLD",
    "AffectState",
    "EmotionState",
    "Relationship",
    "baseline_of",
    "initial_state",
    "state_from_json",
    "state_to_json",
]

NEUTRAL_THRESHOLD = 0.1
"""Below this intensity no emotion is "felt": :meth:`EmotionState.dominant` says ``neutral``.

A tenth of the scale: small enough that a persona's resting mood (0.05..0.3 in the demo
world) still shows through, large enough that the faint residue decay leaves does not.
"""


def _check(name: str, value: float, low: float, high: float) -> None:
    if not (isinstance(value, int | float) and math.isfinite(value) and low <= value <= high):
        raise InvalidInputError(f"{name} must be a finite number in {low}..{high}, got {value!r}")


@dataclass(frozen=True, slots=True)
class EmotionState:
    """The eight Plutchik intensities, 0..1 each."""

    joy: float = 0.0
    trust: float = 0.0
    fear: float = 0.0
    surprise: float = 0.0
    sadness: float = 0.0
    disgust: float = 0.0
    anger: float = 0.0
    anticipation: float = 0.0

    def __post_init__(self) -> None:
        for name in EMOTIONS:
            _check(f"emotion {name}", getattr(self, name), 0.0, 1.0)

    def as_dict(self) -> dict[str, float]:
        """``{emotion: intensity}`` in Plutchik's order."""
        return {name: float(getattr(self, name)) for name in EMOTIONS}

    def dominant(self, *, threshold: float = NEUTRAL_THRESHOLD) -> tuple[str, float]:
        """The strongest emotion and its intensity; ``("neutral", max)`` when all are below ``threshold``.

        Ties go to the emotion earlier in Plutchik's order, so the answer is deterministic.
        """
        label, value = max(self.as_dict().items(), key=lambda item: item[1])  # first maximum wins
        return (label, value) if value >= threshold else ("neutral", value)

    @classmethod
    def from_mapping(cls, values: Mapping[str, float]) -> EmotionState:
        """Build from ``{emotion: intensity}``; missing emotions are 0, unknown names an error."""
        unknown = sorted(set(values) - set(EMOTIONS))
        if unknown:
            raise InvalidInputError(f"unknown emotion(s) {unknown}; expected some of {list(EMOTIONS)}")
        return cls(**{name: float(values[name]) for name in EMOTIONS if name in values})


@dataclass(frozen=True, slots=True)
class Relationship:
    """How the NPC regards one player: trust, respect and familiarity, -1..1 each."""

    trust: float = 0.0
    respect: float = 0.0
    familiarity: float = 0.0

    def __post_init__(self) -> None:
        for name in AXES:
            _check(f"relationship {name}", getattr(self, name), -1.0, 1.0)

    def as_dict(self) -> dict[str, float]:
        """``{axis: value}`` in the order of :data:`~personas.schema.AXES`."""
        return {name: float(getattr(self, name)) for name in AXES}

    @classmethod
    def from_mapping(cls, values: Mapping[str, float]) -> Relationship:
        """Build from ``{axis: value}``; missing axes are 0, unknown names an error."""
        unknown = sorted(set(values) - set(AXES))
        if unknown:
            raise InvalidInputError(f"unknown relationship axis {unknown}; expected some of {list(AXES)}")
        return cls(**{name: float(values[name]) for name in AXES if name in values})


@dataclass(frozen=True, slots=True)
class AffectState:
    """One NPC's emotion and its relationship with one player, as of ``updated_at`` (seconds)."""

    emotion: EmotionState = field(default_factory=EmotionState)
    relationship: Relationship = field(default_factory=Relationship)
    updated_at: float = 0.0

    def __post_init__(self) -> None:
        if not (isinstance(self.updated_at, int | float) and math.isfinite(self.updated_at)):
            raise InvalidInputError(f"updated_at must be a finite number of seconds, got {self.updated_at!r}")


def baseline_of(persona: NpcPersona) -> EmotionState:
    """The persona's resting emotion (``baseline_emotion``)."""
    return EmotionState.from_mapping(persona.baseline_emotion.model_dump())


def initial_state(persona: NpcPersona, now: float) -> AffectState:
    """A first meeting: the persona's baseline emotion, every relationship axis 0."""
    return AffectState(emotion=baseline_of(persona), relationship=Relationship(), updated_at=float(now))


def state_to_json(state: AffectState) -> dict[str, Any]:
    """A JSON-ready dict; :func:`state_from_json` gives back an equal state."""
    return {
        "emotion": state.emotion.as_dict(),
        "relationship": state.relationship.as_dict(),
        "updated_at": state.updated_at,
    }


def state_from_json(data: Mapping[str, Any]) -> AffectState:
    """Inverse of :func:`state_to_json`; :class:`InvalidInputError` when malformed."""
    try:
        return AffectState(
            emotion=EmotionState.from_mapping(data["emotion"]),
            relationship=Relationship.from_mapping(data["relationship"]),
            updated_at=float(data["updated_at"]),
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise InvalidInputError(f"malformed affect state: {exc!r}") from None
