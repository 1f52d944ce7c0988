from __future__ import annotations

import json
from dataclasses import replace

import pytest

from npc_engine.affect import (
    MAX_NUDGE,
    AffectState,
    EmotionState,
    GameEvent,
    MessageAppraisal,
    ModelNudge,
    Relationship,
    apply_impact,
    baseline_of,
    decay,
    event_from_json,
    event_to_json,
    initial_state,
    replay,
    stage_of,
    step,
)
from npc_engine.errors import InvalidInputError
from personas.schema import EventImpact, NpcPersona

HALF_LIFE = 600.0


def _angry(persona: NpcPersona) -> AffectState:
    """At rest except for a flare of anger (0.95), at t=0."""
    return replace(initial_state(persona, 0.0), emotion=replace(baseline_of(persona), anger=0.95))


def _gifts(state: AffectState, persona: NpcPersona, stages: tuple[str, ...], n: int) -> list[str]:
    """Give ``n`` gifts a minute apart; the stage after each."""
    seen = []
    for _ in range(n):
        state = step(
            state,
            GameEvent("gift_received", at=state.updated_at + 60),
            persona,
            stages,
            half_life_s=HALF_LIFE,
        ).state
        seen.append(stage_of(state.relationship, persona, stages))
    return seen


def test_after_one_half_life_half_the_distance_to_baseline_remains(brannoc: NpcPersona) -> None:
    start = _angry(brannoc)
    later = decay(start, brannoc, HALF_LIFE, half_life_s=HALF_LIFE)
    baseline = brannoc.baseline_emotion.anger
    assert later.emotion.anger - baseline == pytest.approx((start.emotion.anger - baseline) / 2)
    assert later.updated_at == HALF_LIFE


def test_after_many_half_lives_emotion_is_exactly_at_baseline(brannoc: NpcPersona) -> None:
    later = decay(_angry(brannoc), brannoc, 100 * HALF_LIFE, half_life_s=HALF_LIFE)
    assert later.emotion == baseline_of(brannoc)


def test_emotion_below_baseline_rises_back_toward_it(brannoc: NpcPersona) -> None:
    start = replace(initial_state(brannoc, 0.0), emotion=replace(baseline_of(brannoc), joy=0.0))
    later = decay(start, brannoc, HALF_LIFE, half_life_s=HALF_LIFE)
    assert later.emotion.joy == pytest.approx(brannoc.baseline_emotion.joy / 2)


def test_decay_leaves_the_relationship_alone(brannoc: NpcPersona) -> None:
    start = replace(_angry(brannoc), relationship=Relationship(trust=0.5, respect=-0.2, familiarity=0.7))
    assert decay(start, brannoc, 1e6, half_life_s=HALF_LIFE).relationship == start.relationship


def test_time_running_backwards_decays_nothing(brannoc: NpcPersona) -> None:
    start = replace(_angry(brannoc), updated_at=1000.0)
    assert decay(start, brannoc, 10.0, half_life_s=HALF_LIFE) == start


def test_a_non_positive_half_life_is_rejected(brannoc: NpcPersona) -> None:
    with pytest.raises(InvalidInputError):
        decay(initial_state(brannoc, 0.0), brannoc, 1.0, half_life_s=0.0)


def test_apply_impact_adds_deltas_and_clamps_to_range(brannoc: NpcPersona) -> None:
    start = replace(initial_state(brannoc, 0.0), emotion=EmotionState(joy=0.9))
    after = apply_impact(start, EventImpact.model_validate({"emotion": {"joy": 0.3, "fear": -0.5}}))
    assert (after.emotion.joy, after.emotion.fear) == (1.0, 0.0)


def test_a_gift_raises_trust(brannoc: NpcPersona, stages: tuple[str, ...]) -> None:
    start = initial_state(brannoc, 0.0)
    result = step(start, GameEvent("gift_received", at=5.0), brannoc, stages, half_life_s=HALF_LIFE)
    assert result.state.relationship.trust == pytest.approx(0.15)
    assert result.changes["relationship"] == {"trust": 0.15, "familiarity": 0.05}


def test_step_decays_to_the_event_time_before_applying(brannoc: NpcPersona, stages: tuple[str, ...]) -> None:
    start = _angry(brannoc)
    result = step(start, GameEvent("item_sold", at=HALF_LIFE), brannoc, stages, half_life_s=HALF_LIFE)
    assert result.state.emotion.anger == decay(start, brannoc, HALF_LIFE, half_life_s=HALF_LIFE).emotion.anger
    assert result.state.updated_at == HALF_LIFE


def test_gift_magnitude_scales_the_impact(brannoc: NpcPersona, stages: tuple[str, ...]) -> None:
    start = initial_state(brannoc, 0.0)
    result = step(
        start, GameEvent("gift_received", 0.0, magnitude=2.0), brannoc, stages, half_life_s=HALF_LIFE
    )
    assert result.state.relationship.trust == pytest.approx(0.3)


def test_enough_gifts_make_a_stranger_an_acquaintance(brannoc: NpcPersona, stages: tuple[str, ...]) -> None:
    start = initial_state(brannoc, 0.0)
    assert stage_of(start.relationship, brannoc, stages) == "stranger"
    assert _gifts(start, brannoc, stages, 4) == ["stranger", "stranger", "stranger", "acquaintance"]


def test_gifts_alone_never_make_brannoc_a_friend_without_respect(
    brannoc: NpcPersona, stages: tuple[str, ...]
) -> None:
    assert _gifts(initial_state(brannoc, 0.0), brannoc, stages, 20)[-1] == "acquaintance"


def test_gifts_then_a_completed_quest_make_brannoc_a_friend(
    brannoc: NpcPersona, stages: tuple[str, ...]
) -> None:
    state = initial_state(brannoc, 0.0)
    for i in range(8):
        state = step(
            state, GameEvent("gift_received", at=60.0 * i), brannoc, stages, half_life_s=HALF_LIFE
        ).state
    result = step(state, GameEvent("quest_completed", at=600.0), brannoc, stages, half_life_s=HALF_LIFE)
    assert (result.stage_before, result.stage_after) == ("acquaintance", "friend")
    assert result.stage_changed


def test_an_attack_lowers_trust_and_drops_a_stranger_to_hostile(
    brannoc: NpcPersona, stages: tuple[str, ...]
) -> None:
    result = step(
        initial_state(brannoc, 0.0), GameEvent("attacked", at=1.0), brannoc, stages, half_life_s=HALF_LIFE
    )
    assert result.state.relationship.trust == pytest.approx(-0.6)
    assert (result.stage_before, result.stage_after) == ("stranger", "hostile")


def test_an_attack_drops_a_friend_to_a_lower_stage(brannoc: NpcPersona, stages: tuple[str, ...]) -> None:
    friend = replace(initial_state(brannoc, 0.0), relationship=Relationship(0.6, 0.3, 0.5))
    result = step(friend, GameEvent("attacked", at=1.0), brannoc, stages, half_life_s=HALF_LIFE)
    assert result.stage_before == "friend"
    assert stages.index(result.stage_after) < stages.index("friend")


def test_an_unknown_event_type_is_a_reported_no_op(brannoc: NpcPersona, stages: tuple[str, ...]) -> None:
    start = _angry(brannoc)
    result = step(start, GameEvent("dragon_dance", at=5000.0), brannoc, stages, half_life_s=HALF_LIFE)
    assert result.state == start
    assert result.stage_before == result.stage_after == "stranger"
    assert "dragon_dance" in result.changes["ignored"]


def test_a_model_nudge_moves_an_emotion_by_at_most_max_nudge(
    brannoc: NpcPersona, stages: tuple[str, ...]
) -> None:
    start = initial_state(brannoc, 0.0)
    result = step(
        start, ModelNudge(at=0.0, label="fear", intensity=1.0), brannoc, stages, half_life_s=HALF_LIFE
    )
    assert result.state.emotion.fear == pytest.approx(start.emotion.fear + MAX_NUDGE)
    assert result.changes["emotion"].keys() == {"fear"}


def test_a_model_nudge_never_overshoots_the_reported_intensity(
    brannoc: NpcPersona, stages: tuple[str, ...]
) -> None:
    start = initial_state(brannoc, 0.0)  # anger 0.15
    result = step(
        start, ModelNudge(at=0.0, label="Anger", intensity=0.2), brannoc, stages, half_life_s=HALF_LIFE
    )
    assert result.state.emotion.anger == pytest.approx(0.2)


def test_a_model_nudge_with_an_unknown_label_is_ignored(brannoc: NpcPersona, stages: tuple[str, ...]) -> None:
    start = initial_state(brannoc, 0.0)
    result = step(
        start, ModelNudge(at=9.0, label="smug", intensity=1.0), brannoc, stages, half_life_s=HALF_LIFE
    )
    assert result.state == start
    assert "smug" in result.changes["ignored"]


def test_a_message_appraisal_applies_its_deltas(brannoc: NpcPersona, stages: tuple[str, ...]) -> None:
    event = MessageAppraisal(
        at=0.0, emotion={"anger": 0.3}, relationship={"respect": -0.1}, matched=("insult",)
    )
    result = step(initial_state(brannoc, 0.0), event, brannoc, stages, half_life_s=HALF_LIFE)
    assert result.state.emotion.anger == pytest.approx(0.45)
    assert result.state.relationship.respect == pytest.approx(-0.1)
    assert result.changes["matched"] == ["insult"]


def test_a_stage_the_persona_gives_no_thresholds_for_is_never_reached(brannoc: NpcPersona) -> None:
    assert stage_of(Relationship(1.0, 1.0, 1.0), brannoc, ("enemy", "neutral", "ally")) == "enemy"


def test_replay_from_the_json_event_log_reproduces_the_exact_state(
    brannoc: NpcPersona, stages: tuple[str, ...]
) -> None:
    events = [
        GameEvent("gift_received", at=10.0),
        MessageAppraisal(at=70.3, emotion={"joy": 0.2}, relationship={"trust": 0.05}, matched=("praise",)),
        ModelNudge(at=71.0, label="joy", intensity=0.9),
        GameEvent("insulted", at=1234.5678, magnitude=0.7),
        GameEvent("no_such_event", at=2000.0),
        GameEvent("attacked", at=1999.0),
        GameEvent("quest_completed", at=86400.1),
    ]
    start = initial_state(brannoc, 0.0)
    log = [json.dumps(event_to_json(e)) for e in events]
    expected = start
    for event in events:
        expected = step(expected, event, brannoc, stages, half_life_s=HALF_LIFE).state
    from_log = replay(
        brannoc,
        stages,
        [event_from_json(json.loads(line)) for line in log],
        start=start,
        half_life_s=HALF_LIFE,
    )
    assert from_log == replay(brannoc, stages, events, start=start, half_life_s=HALF_LIFE) == expected


@pytest.mark.parametrize(
    "event",
    [
        GameEvent("attacked", at=1.5, magnitude=0.25),
        MessageAppraisal(
            at=2.0, emotion={"fear": 0.3, "anger": 0.2}, relationship={"trust": -0.2}, matched=("threat",)
        ),
        ModelNudge(at=3.0, label="sadness", intensity=0.4),
    ],
)
def test_an_event_round_trips_through_json(event: GameEvent | MessageAppraisal | ModelNudge) -> None:
    assert event_from_json(json.loads(json.dumps(event_to_json(event)))) == event


@pytest.mark.parametrize(
    "data",
    [
        {"kind": "party", "at": 0},
        {"kind": "game", "at": 0},
        {"kind": "game", "type": "attacked", "at": "noon"},
        {"kind": "message", "at": 0, "emotion": {"glee": 0.1}},
        {"kind": "game", "type": "attacked", "at": 0, "magnitude": -1},
    ],
)
def test_a_malformed_log_entry_is_an_invalid_input_error(data: dict[str, object]) -> None:
    with pytest.raises(InvalidInputError):
        event_from_json(data)
