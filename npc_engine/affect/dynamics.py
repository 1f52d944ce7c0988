"""Emotion and relationship dynamics: pure functions of (state, input), replayable.

Nothing here reads a clock or does I/O; time is an argument (game seconds). The same
state, inputs and parameters always give bit-for-bit the same floats, because every
update is a fixed sequence of IEEE operations over names in a fixed order
(:data:`~personas.schema.EMOTIONS`, :data:`~personas.schema.AXES`).

The model
---------
**Decay.** Each emotion relaxes exponentially toward the persona's baseline ``b``::

    e(now) = b + (e(t0) - b) * 0.5 ** ((now - t0) / half_life_s)

so after one half-life half the distance to baseline remains, after ten about 0.1%.
A gap below :data:`SNAP_EPSILON` snaps to the baseline exactly, so an NPC left alone
really is back at rest. Time running backwards (``now < updated_at``) counts as no
time; ``updated_at`` never moves back. Relationship axes do not decay: what a player
did is remembered, and familiarity is never lost.

**Impacts.** A game event's impact (``persona.reactions[type]``, times ``magnitude``)
or a message appraisal is added to each emotion and axis, then clamped: emotions to
0..1, axes to -1..1. Clamping (not rescaling) keeps the update local: a delta to one
name never moves another.

**Bounded nudge.** The model's reported emotion moves that one intensity toward the
reported value by at most ``max_nudge`` (:data:`MAX_NUDGE`), never more, so the model
can colour the state but can neither take it over nor swing it in one reply.

**Stages.** :func:`stage_of` is the highest stage whose every threshold is met
(``axis >= minimum``). The lowest stage needs none; a higher stage the persona gives
no thresholds for is never reached (a missing entry is not an empty one).

**Steps.** :func:`step` decays to the event's time, then applies it. An input that
cannot apply (a game event with no reaction in the persona, an unknown emotion label)
changes nothing, not even ``updated_at``, and is reported in ``changes["ignored"]``.
:func:`replay` folds :func:`step`, so a stored event log rebuilds the exact state.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from npc_engine.affect.events import Event, GameEvent, MessageAppraisal, ModelNudge
from npc_engine.affect.state import AffectState, EmotionState, Relationship, baseline_of
from npc_engine.errors import InvalidInputError
from personas.schema import AXES, EMOTIONS, EventImpact, NpcPersona

__all__ = [
    "DEFAULT_HALF_LIFE_S",
    "MAX_NUDGE",
    "SNAP_EPSILON",
    "StepResult",
    "apply_impact",
    "decay",
    "nudge",
    "replay",
    "stage_of",
    "step",
]

DEFAULT_HALF_LIFE_S = 600.0
"""A suggested half-life: ten minutes of game time. A flare of anger is mostly gone after
half an hour (1/8 left) and indistinguishable from rest after two hours."""
MAX_NUDGE = 0.15
"""Largest move of one intensity per model report: smaller than any demo reaction
(0.3..0.7), so the persona's own reactions stay the main driver."""
SNAP_EPSILON = 1e-9
"""A decayed gap smaller than this is set to the baseline exactly."""


@dataclass(frozen=True, slots=True)
class StepResult:
    """The state after one input, the stage before and after, and what changed (JSON-ready)."""

    state: AffectState
    stage_before: str
    stage_after: str
    changes: dict[str, Any] = field(default_factory=dict, hash=False)

    @property
    def stage_changed(self) -> bool:
        return self.stage_before != self.stage_after


def _clamp(value: float, low: float, high: float) -> float:
    return low if value < low else high if value > high else value


def _positive_half_life(half_life_s: float) -> float:
    if not (isinstance(half_life_s, int | float) and half_life_s > 0 and not math.isnan(half_life_s)):
        raise InvalidInputError(f"half_life_s must be a positive number of seconds, got {half_life_s!r}")
    return float(half_life_s)


def _finite(name: str, value: float) -> float:
    if not (isinstance(value, int | float) and math.isfinite(value)):
        raise InvalidInputError(f"{name} must be a finite number, got {value!r}")
    return float(value)


def decay(state: AffectState, persona: NpcPersona, now: float, *, half_life_s: float) -> AffectState:
    """Emotions relaxed toward ``persona``'s baseline over ``now - state.updated_at`` seconds."""
    half_life = _positive_half_life(half_life_s)
    now = _finite("now", now)
    elapsed = now - state.updated_at
    if elapsed <= 0.0:
        return state  # no time has passed (or it ran backwards): nothing to do, and no rewind
    factor = 0.5 ** (elapsed / half_life)
    baseline = baseline_of(persona).as_dict()
    current = state.emotion.as_dict()
    relaxed: dict[str, float] = {}
    for name in EMOTIONS:
        gap = (current[name] - baseline[name]) * factor
        relaxed[name] = baseline[name] if abs(gap) < SNAP_EPSILON else _clamp(baseline[name] + gap, 0.0, 1.0)
    return AffectState(emotion=EmotionState(**relaxed), relationship=state.relationship, updated_at=now)


def _apply(
    state: AffectState, emotion: Mapping[str, float], relationship: Mapping[str, float], scale: float
) -> AffectState:
    current = state.emotion.as_dict()
    axes = state.relationship.as_dict()
    new_emotion = {n: _clamp(current[n] + scale * emotion.get(n, 0.0), 0.0, 1.0) for n in EMOTIONS}
    new_axes = {n: _clamp(axes[n] + scale * relationship.get(n, 0.0), -1.0, 1.0) for n in AXES}
    return AffectState(
        emotion=EmotionState(**new_emotion),
        relationship=Relationship(**new_axes),
        updated_at=state.updated_at,
    )


def apply_impact(state: AffectState, impact: EventImpact, *, scale: float = 1.0) -> AffectState:
    """``state`` plus ``impact`` times ``scale``, clamped (emotions 0..1, axes -1..1); time unchanged."""
    scale = _finite("scale", scale)
    return _apply(state, impact.emotion.model_dump(), impact.relationship.model_dump(), scale)


def nudge(state: AffectState, label: str, intensity: float, *, max_nudge: float = MAX_NUDGE) -> AffectState:
    """Move emotion ``label`` toward ``intensity`` by at most ``max_nudge``; other values unchanged."""
    if label not in EMOTIONS:
        raise InvalidInputError(f"unknown emotion {label!r}; expected one of {list(EMOTIONS)}")
    bound = _finite("max_nudge", max_nudge)
    if not 0.0 <= bound <= 1.0:
        raise InvalidInputError(f"max_nudge must be in 0..1, got {bound!r}")
    target = _clamp(_finite("intensity", intensity), 0.0, 1.0)
    current = state.emotion.as_dict()
    current[label] = _clamp(current[label] + _clamp(target - current[label], -bound, bound), 0.0, 1.0)
    return AffectState(
        emotion=EmotionState(**current), relationship=state.relationship, updated_at=state.updated_at
    )


def stage_of(relationship: Relationship, persona: NpcPersona, stages: Sequence[str]) -> str:
    """The highest of ``stages`` (lowest first) whose thresholds ``relationship`` meets."""
    if not stages:
        raise InvalidInputError("stage_of needs at least one relationship stage")
    thresholds = persona.thresholds_for(tuple(stages))
    values = relationship.as_dict()
    for stage in reversed(stages[1:]):
        minimums = thresholds.get(stage)
        if minimums is not None and all(values[axis] >= low for axis, low in minimums.items()):
            return stage
    return stages[0]


def _diff(before: Mapping[str, float], after: Mapping[str, float]) -> dict[str, float]:
    return {name: after[name] - before[name] for name in before if after[name] != before[name]}


def step(
    state: AffectState,
    event: Event,
    persona: NpcPersona,
    stages: Sequence[str],
    *,
    half_life_s: float,
    max_nudge: float = MAX_NUDGE,
) -> StepResult:
    """Decay ``state`` to ``event.at``, then apply ``event``; report the stages and the changes."""
    _positive_half_life(half_life_s)
    stage_before = stage_of(state.relationship, persona, stages)
    changes: dict[str, Any] = {"kind": event.kind}
    ignored: str | None = None
    if isinstance(event, GameEvent):
        changes["type"] = event.type
        if event.type not in persona.reactions:
            ignored = f"persona {persona.id!r} has no reaction to event type {event.type!r}"
    elif isinstance(event, ModelNudge):
        changes["label"] = event.label.strip().lower()
        if changes["label"] not in EMOTIONS:
            ignored = f"no emotion called {event.label!r} to nudge"
    elif isinstance(event, MessageAppraisal):
        changes["matched"] = list(event.matched)
    else:  # pragma: no cover - the union is closed; this guards callers without a type checker
        raise InvalidInputError(f"not an affect event: {event!r}")
    if ignored is not None:
        changes["ignored"] = ignored
        return StepResult(state, stage_before, stage_before, changes)

    decayed = decay(state, persona, event.at, half_life_s=half_life_s)
    if isinstance(event, GameEvent):
        after = apply_impact(decayed, persona.reactions[event.type], scale=event.magnitude)
    elif isinstance(event, ModelNudge):
        after = nudge(decayed, changes["label"], event.intensity, max_nudge=max_nudge)
    else:
        after = _apply(decayed, event.emotion, event.relationship, 1.0)
    changes["elapsed_s"] = decayed.updated_at - state.updated_at
    changes["emotion"] = _diff(decayed.emotion.as_dict(), after.emotion.as_dict())
    changes["relationship"] = _diff(decayed.relationship.as_dict(), after.relationship.as_dict())
    return StepResult(after, stage_before, stage_of(after.relationship, persona, stages), changes)


def replay(
    persona: NpcPersona,
    stages: Sequence[str],
    events: Iterable[Event],
    *,
    start: AffectState,
    half_life_s: float,
    max_nudge: float = MAX_NUDGE,
) -> AffectState:
    """Fold :func:`step` over ``events`` from ``start``: the event log's state, exactly."""
    state = start
    for event in events:
        state = step(state, event, persona, stages, half_life_s=half_life_s, max_nudge=max_nudge).state
    return state
