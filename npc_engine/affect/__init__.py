"""Emotion and relationship: pure, deterministic, replayable (see DESIGN.md, "Emotion and relationship").

Per (NPC, player) an :class:`AffectState` holds Plutchik's eight emotion intensities
(0..1), the relationship axes trust, respect and familiarity (-1..1), and the game time
it was last updated. Inputs (:data:`Event`) are game events (impacts from the persona's
``reactions``), the lexicon :func:`appraise` of the player's message, and the model's
reported emotion as a bounded nudge. :func:`step` is a pure function of (state, event);
:func:`replay` over the JSON event log (:func:`event_to_json` / :func:`event_from_json`)
rebuilds the exact state. Nothing here reads a clock or does I/O.

Modules: :mod:`.state` (the values), :mod:`.events` (inputs and their JSON),
:mod:`.dynamics` (decay, impacts, nudge, stages, step, replay), :mod:`.appraisal`.
"""

from npc_engine.affect.appraisal import CATEGORIES, CATEGORY_DELTAS, LANGUAGES, appraise
from npc_engine.affect.dynamics import (
    DEFAULT_HALF_LIFE_S,
    MAX_NUDGE,
    SNAP_EPSILON,
    StepResult,
    apply_impact,
    decay,
    nudge,
    replay,
    stage_of,
    step,
)
from npc_engine.affect.events import (
    Event,
    GameEvent,
    MessageAppraisal,
    ModelNudge,
    event_from_json,
    event_to_json,
)
from npc_engine.affect.state import (
    NEUTRAL_THRESHOLD,
    AffectState,
    EmotionState,
    Relationship,
    baseline_of,
    initial_state,
    state_from_json,
    state_to_json,
)

__all__ = [
    "CATEGORIES",
    "CATEGORY_DELTAS",
    "DEFAULT_HALF_LIFE_S",
    "LANGUAGES",
    "MAX_NUDGE",
    "NEUTRAL_THRESHOLD",
    "SNAP_EPSILON",
    "AffectState",
    "EmotionState",
    "Event",
    "GameEvent",
    "MessageAppraisal",
    "ModelNudge",
    "Relationship",
    "StepResult",
    "apply_impact",
    "appraise",
    "baseline_of",
    "decay",
    "event_from_json",
    "event_to_json",
    "initial_state",
    "nudge",
    "replay",
    "stage_of",
    "state_from_json",
    "state_to_json",
    "step",
]
