from __future__ import annotations

import json

from hypothesis import given, settings
from hypothesis import strategies as st

from npc_engine.affect import (
    AffectState,
    Event,
    GameEvent,
    MessageAppraisal,
    ModelNudge,
    event_from_json,
    event_to_json,
    initial_state,
    replay,
    step,
)
from personas.schema import AXES, EMOTIONS, NpcPersona

times = st.floats(min_value=0.0, max_value=1e7, allow_nan=False)
deltas = st.floats(min_value=-1.0, max_value=1.0, allow_nan=False)

game_events = st.builds(
    GameEvent,
    type=st.sampled_from(["gift_received", "attacked", "quest_completed", "insulted", "item_sold", "dance"]),
    at=times,
    magnitude=st.floats(min_value=0.0, max_value=5.0, allow_nan=False),
)
appraisals = st.builds(
    MessageAppraisal,
    at=times,
    emotion=st.dictionaries(st.sampled_from(EMOTIONS), deltas),
    relationship=st.dictionaries(st.sampled_from(AXES), deltas),
    matched=st.lists(st.sampled_from(["insult", "praise", "threat"]), max_size=3).map(tuple),
)
nudges = st.builds(
    ModelNudge,
    at=times,
    label=st.sampled_from([*EMOTIONS, "Joy", "neutral", "smug"]),
    intensity=st.floats(min_value=-2.0, max_value=2.0, allow_nan=False),
)
event_lists = st.lists(st.one_of(game_events, appraisals, nudges), max_size=25)


def _in_range(state: AffectState) -> bool:
    return all(0.0 <= v <= 1.0 for v in state.emotion.as_dict().values()) and all(
        -1.0 <= v <= 1.0 for v in state.relationship.as_dict().values()
    )


@settings(database=None, max_examples=200, deadline=None)
@given(events=event_lists)
def test_any_event_sequence_keeps_every_value_in_range(
    brannoc: NpcPersona, stages: tuple[str, ...], events: list[Event]
) -> None:
    state = initial_state(brannoc, 0.0)
    for event in events:
        result = step(state, event, brannoc, stages, half_life_s=600.0)
        assert _in_range(result.state)
        assert result.stage_after in stages
        assert result.state.updated_at >= state.updated_at
        state = result.state


@settings(database=None, max_examples=200, deadline=None)
@given(events=event_lists, half_life=st.floats(min_value=1.0, max_value=1e6))
def test_replaying_the_serialized_log_equals_replaying_the_events(
    brannoc: NpcPersona, stages: tuple[str, ...], events: list[Event], half_life: float
) -> None:
    start = initial_state(brannoc, 0.0)
    log = json.dumps([event_to_json(e) for e in events])
    restored = [event_from_json(entry) for entry in json.loads(log)]
    assert restored == events
    original = replay(brannoc, stages, events, start=start, half_life_s=half_life)
    assert replay(brannoc, stages, restored, start=start, half_life_s=half_life) == original
