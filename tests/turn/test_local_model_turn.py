"""A real NPC turn through the bundled local GGUF (SmolLM2-135M via llama-cpp-python)."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from npc_engine.engine import Engine
from personas.schema import EMOTIONS

MakeEngine = Callable[..., Engine]


@pytest.mark.slow
async def test_the_bundled_local_model_completes_a_turn_with_valid_structure(
    make_engine: MakeEngine, player: str
) -> None:
    from npc_engine.llm.llamacpp import LlamaCppChatModel

    model = LlamaCppChatModel(n_threads=1)
    engine = make_engine(model=model, llm_temperature=0.2, llm_timeout_s=120)
    reply = await engine.npc_turn("brannoc", player, "Hello smith, what do you forge?")
    assert reply.model.startswith("llamacpp")
    assert reply.usage.completion_tokens > 0  # the model itself generated, schema-constrained
    assert reply.text.strip()
    assert reply.emotion.label in (*EMOTIONS, "neutral")
    assert reply.relationship.stage == "stranger"
    assert all(
        engine_action.name in {"give_item", "repair_gear", "offer_quest"} for engine_action in reply.actions
    )
    # whatever the small model said, it was validated: either it passed, or the composer answered and said why
    assert reply.fallback == bool(reply.fallback_reason)
    assert reply.timings_ms["generate"] > 0
