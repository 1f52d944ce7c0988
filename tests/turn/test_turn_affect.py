"""Emotion and relationship through turns and game events: decay, stages, gating, replay.

On SQLite and on the real PostgreSQL: the affect state and its event log are rows of the state store.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable

import pytest

from npc_engine.engine import Engine
from npc_engine.errors import InvalidInputError
from npc_engine.llm.scripted import ScriptedChatModel
from npc_engine.state.store import SqlStateStore
from npc_engine.turn.types import GameEventIn

MakeEngine = Callable[..., Engine]
ANGRY = json.dumps({"text": "Get out of my forge!", "emotion": "anger", "actions": []})


@pytest.fixture
def make_engine(make_engine: MakeEngine, turn_state: SqlStateStore) -> MakeEngine:
    return functools.partial(make_engine, state=turn_state)


async def test_a_gift_raises_trust_and_enough_gifts_move_the_stage(
    make_engine: MakeEngine, player: str
) -> None:
    engine = make_engine()
    first = await engine.npc_event("brannoc", player, "gift_received")
    assert first.applied and first.relationship.axes["trust"] > 0
    stages = [first.relationship.stage]
    for _ in range(5):
        stages.append(
            (await engine.npc_event("brannoc", player, {"type": "gift_received"})).relationship.stage
        )
    assert stages[0] == "stranger" and stages[-1] == "acquaintance"


async def test_an_event_the_npc_has_no_reaction_to_is_reported_and_not_stored(
    make_engine: MakeEngine, player: str
) -> None:
    engine = make_engine()
    out = await engine.npc_event("brannoc", player, GameEventIn(type="danced_badly"))
    assert not out.applied and "danced_badly" in (out.ignored_reason or "")
    with pytest.raises(InvalidInputError, match="not met"):
        await engine.affect_state("brannoc", player)


async def test_a_malformed_event_is_refused(make_engine: MakeEngine, player: str) -> None:
    with pytest.raises(ValueError):
        await make_engine().npc_event("brannoc", player, {"type": "gift received!"})


async def test_emotion_decays_toward_the_persona_baseline(
    make_engine: MakeEngine, player: str, clock: Callable[[], float]
) -> None:
    engine = make_engine(clock=clock, affect_half_life_s=600)
    struck = await engine.npc_event("brannoc", player, "attacked")
    assert struck.emotion.label == "anger"
    baseline = 0.15  # brannoc.yaml baseline_emotion.anger
    clock.advance(600)  # type: ignore[attr-defined]  # one half-life later, an event with no anger in it
    later = await engine.npc_event("brannoc", player, "item_sold")
    expected = baseline + (struck.emotion.vector["anger"] - baseline) / 2
    assert later.emotion.vector["anger"] == pytest.approx(expected, abs=1e-3)
    clock.advance(12 * 3600)  # type: ignore[attr-defined]
    calm = await engine.npc_event("brannoc", player, "item_sold")
    assert calm.emotion.vector["anger"] == pytest.approx(baseline, abs=1e-3)


async def test_replaying_the_event_log_reproduces_the_state_exactly(
    make_engine: MakeEngine, player: str
) -> None:
    engine = make_engine([ANGRY])
    await engine.npc_turn("brannoc", player, "You are a brilliant smith, thank you!")
    await engine.npc_event("brannoc", player, "gift_received")
    await engine.npc_turn("brannoc", player, "You stupid old fool.")
    await engine.npc_event("brannoc", player, GameEventIn(type="quest_completed", magnitude=0.5))
    stored = await engine.affect_state("brannoc", player)
    assert await engine.affect_state("brannoc", player, replayed=True) == stored


async def test_stage_gates_lore_in_the_prompt(make_engine: MakeEngine, player: str) -> None:
    """Brannoc tells the sealed-vault secret to a friend, never to a stranger."""
    model = ScriptedChatModel([json.dumps({"text": "Hm.", "emotion": "neutral", "actions": []})])
    engine = make_engine(model=model)
    question = "What lies in the sealed vault beneath Ironhold?"
    await engine.npc_turn("brannoc", player, question)
    assert "CANARY-ANVILDEEP-3c9e" not in "".join(m.content for m in model.requests[-1].messages)
    for _ in range(12):  # quests done together: trust, respect and familiarity grow to friendship
        outcome = await engine.npc_event("brannoc", player, "quest_completed")
    assert outcome.relationship.stage in ("friend", "confidant")
    await engine.npc_turn("brannoc", player, question)
    assert "CANARY-ANVILDEEP-3c9e" in "".join(m.content for m in model.requests[-1].messages)
