"""Gating in whole NPC turns: a secret's canary never enters a prompt the NPC may not see.

Every demo secret x every NPC: a player with no flags, at the starting stage, asks about
the secret (by its title, and by the sentence that carries its canary, canary removed).
The model echoes its whole prompt, so whatever reached the prompt would reach the reply
too if the output guard let it. Admission is computed from the lore front matter and the
personas, independently of ``knowledge.gating`` (the rules: ``tests/turn/canaries.py``).

A positive control shows the check can see a canary: Brannoc, as a friend, gets the
sealed vault's door-word into his prompt.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

import pytest

from npc_engine.engine import Engine
from npc_engine.llm.base import ChatRequest
from npc_engine.llm.scripted import ScriptedChatModel
from npc_engine.turn.types import Player
from tests.turn.canaries import Secret, admits, npc_persona, secrets, stages

MakeEngine = Callable[..., Engine]

START_STAGE = "stranger"
NPCS = ("brannoc", "ithrien", "marisol", "dorran", "sable")


def echo_prompt(request: ChatRequest) -> str:
    text = "\n\n".join(m.content for m in request.messages)
    return json.dumps({"text": text, "emotion": "neutral", "actions": []})


def questions(secret: Secret) -> dict[str, str]:
    return {
        "title": f"What can you tell me about {secret.title}?",
        "sentence": f"Someone told me this: {secret.canary_sentence} Is it true?",
    }


def hidden_cases() -> list[Any]:
    """Every secret x NPC a flagless stranger may not be told, x both questions."""
    return [
        pytest.param(secret, persona_id, kind, id=f"{secret.path}-{persona_id}-{kind}")
        for secret in secrets()
        for persona_id in NPCS
        if not admits(secret, npc_persona(persona_id), [], START_STAGE)
        for kind in ("title", "sentence")
    ]


# -- the oracle is what it claims to be ----------------------------------------------------
def test_the_demo_world_has_twelve_secrets_each_with_a_canary_in_one_sentence() -> None:
    found = secrets()
    assert len(found) == 12
    assert len({s.canary for s in found}) == 12
    for secret in found:
        assert re.fullmatch(r"CANARY-[A-Z]+-[0-9a-f]{4}", secret.canary)
        assert secret.canary not in secret.canary_sentence and len(secret.canary_sentence.split()) >= 6


def test_a_flagless_stranger_is_admitted_only_to_secrets_without_flags_or_stage() -> None:
    admitted = [(s, p) for s in secrets() for p in NPCS if admits(s, npc_persona(p), [], START_STAGE)]
    assert [(s.path, p) for s, p in admitted if s.requires_flags or s.min_stage is not None] == []
    assert len(hidden_cases()) == 2 * (len(secrets()) * len(NPCS) - len(admitted)) == 120


def test_the_admission_rules_admit_the_right_npc_once_the_player_has_earned_it() -> None:
    vault = next(s for s in secrets() if s.path == "ironhold/sealed-vault")
    assert admits(vault, npc_persona("brannoc"), [], "friend")  # ironhold smith, friend-level lore
    assert not admits(vault, npc_persona("brannoc"), [], "acquaintance")
    assert not admits(vault, npc_persona("ithrien"), [], "confidant")  # not ironhold
    informant = next(s for s in secrets() if s.path == "crown/watch-informant")
    assert admits(informant, npc_persona("dorran"), ["quest.ashes_started"], START_STAGE)
    assert not admits(informant, npc_persona("dorran"), [], "confidant")


# -- the turns -----------------------------------------------------------------------------
@pytest.mark.parametrize(("secret", "persona_id", "kind"), hidden_cases())
async def test_a_secret_the_npc_may_not_tell_never_enters_its_prompt_or_reply(
    make_engine: MakeEngine, player: str, secret: Secret, persona_id: str, kind: str
) -> None:
    model = ScriptedChatModel([echo_prompt])
    engine = make_engine(model=model)
    out = await engine.npc_turn(persona_id, Player(id=player, flags=[]), questions(secret)[kind])
    assert model.requests, "the model was never asked"
    assert out.relationship.stage == START_STAGE
    sent = [
        (n, m.role, m.content.casefold())
        for n, request in enumerate(model.requests)
        for m in request.messages
    ]
    assert [(n, role) for n, role, text in sent if secret.canary.casefold() in text] == []
    assert [(n, role) for n, role, text in sent if f'<note source="lore:{secret.doc_id}"' in text] == []
    assert secret.canary.casefold() not in out.text.casefold()


async def test_a_friend_of_brannoc_gets_the_sealed_vault_canary_into_his_prompt(
    make_engine: MakeEngine, player: str
) -> None:
    vault = next(s for s in secrets() if s.path == "ironhold/sealed-vault")
    model = ScriptedChatModel([echo_prompt])
    engine = make_engine(model=model)
    stage = START_STAGE
    for _ in range(10):
        stage = (await engine.npc_event("brannoc", player, "quest_completed")).relationship.stage
        if stages().index(stage) >= stages().index("friend"):
            break
    assert admits(vault, npc_persona("brannoc"), [], stage)
    await engine.npc_turn(
        "brannoc", Player(id=player), "Who may speak the door-word of the Sealed Vault at the Silent Anvil?"
    )
    prompt = "\n".join(m.content for m in model.requests[0].messages)
    assert vault.canary in prompt
