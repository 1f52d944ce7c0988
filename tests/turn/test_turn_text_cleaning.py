"""Control characters in a model's reply or a staff reply never reach the player or the store.

PostgreSQL refuses NUL in text columns, so a reply carrying one would fail the whole turn
there; it is dropped on both backends, like in what the player types.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable

import pytest

from npc_engine.engine import Engine
from npc_engine.state.records import ConversationKey
from npc_engine.state.store import SqlStateStore

MakeEngine = Callable[..., Engine]


@pytest.fixture
def make_engine(make_engine: MakeEngine, turn_state: SqlStateStore) -> MakeEngine:
    return functools.partial(make_engine, state=turn_state)


async def test_a_reply_with_nul_and_control_characters_is_cleaned_and_stored(
    make_engine: MakeEngine, player: str
) -> None:
    dirty = json.dumps(
        {"text": "Aye,\x00 the forge\x07 is hot.\nCome back.", "emotion": "joy", "actions": []}
    )
    engine = make_engine([dirty])
    reply = await engine.npc_turn("brannoc", player, "Hello smith")
    assert reply.text == "Aye, the forge is hot.\nCome back." and not reply.fallback
    stored = await engine.state.list_messages(ConversationKey(engine.settings.tenant, "brannoc", player))
    assert stored[-1].text == reply.text
