from __future__ import annotations

import json

import pytest

import npc_engine.affect as affect
from npc_engine.affect import (
    AffectState,
    EmotionState,
    Relationship,
    initial_state,
    state_from_json,
    state_to_json,
)
from npc_engine.errors import InvalidInputError
from personas.schema import EMOTIONS, NpcPersona


def test_all_lists_exactly_the_public_names() -> None:
    assert len(affect.__all__) == len(set(affect.__all__))
    assert [name for name in affect.__all__ if not hasattr(affect, name)] == []


def test_initial_state_is_the_persona_baseline_and_a_blank_relationship(brannoc: NpcPersona) -> None:
    state = initial_state(brannoc, 12.5)
    assert state.emotion.as_dict() == brannoc.baseline_emotion.model_dump()
    assert state.relationship == Relationship(0.0, 0.0, 0.0)
    assert state.updated_at == 12.5


def test_as_dict_lists_the_eight_emotions_in_plutchik_order() -> None:
    assert tuple(EmotionState().as_dict()) == EMOTIONS


def test_dominant_is_the_strongest_emotion() -> None:
    assert EmotionState(joy=0.3, anger=0.6).dominant() == ("anger", 0.6)


def test_dominant_is_neutral_when_every_emotion_is_faint() -> None:
    assert EmotionState(joy=0.05, fear=0.02).dominant() == ("neutral", 0.05)


def test_dominant_breaks_ties_in_plutchik_order() -> None:
    assert EmotionState(anger=0.5, joy=0.5).dominant() == ("joy", 0.5)


@pytest.mark.parametrize("bad", [-0.01, 1.01, float("nan"), float("inf")])
def test_emotion_outside_zero_to_one_is_rejected(bad: float) -> None:
    with pytest.raises(InvalidInputError):
        EmotionState(joy=bad)


@pytest.mark.parametrize("bad", [-1.01, 1.01, float("nan")])
def test_relationship_outside_minus_one_to_one_is_rejected(bad: float) -> None:
    with pytest.raises(InvalidInputError):
        Relationship(trust=bad)


def test_state_json_round_trips_exactly() -> None:
    state = AffectState(EmotionState(joy=0.1 + 0.2), Relationship(trust=-1 / 3), updated_at=1e9 + 0.1)
    assert state_from_json(json.loads(json.dumps(state_to_json(state)))) == state


def test_malformed_state_json_is_an_invalid_input_error() -> None:
    with pytest.raises(InvalidInputError):
        state_from_json({"emotion": {"glee": 1.0}, "relationship": {}, "updated_at": 0})
