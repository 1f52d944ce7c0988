"""Gating in whole NPC turns: a secret's canary never enters a prompt the NPC may not see.

Every demo secret x every NPC: a player with no flags, at the starting stage, asks about
the secret (by its title, and by the sentence that carries its canary, canary removed).
The model echoes its whole prompt, so whatever reached the prompt would reach the reply
too if the output guard let it. Admission is computed here from the lore front matter
and the personas (README, "Writing a world"), independently of ``knowledge.gating``:

* who knows it: ``known_by`` everyone, or the NPC's id among its ``npcs``, or the NPC's
  faction / ``knowledge_scope`` factions among its ``factions``, or the NPC's role /
  ``knowledge_scope`` roles among its ``roles``;
* ``requires_flags`` are all among the player's flags;
* ``min_stage`` is at or below the relationship stage (``relationship_stages`` order).

A positive control shows the check can see a canary: Brannoc, as a friend, gets the
sealed vault's door-word into his prompt.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import pytest
import yaml

from npc_engine.engine import Engine
from npc_engine.llm.base import ChatRequest
from npc_engine.llm.scripted import ScriptedChatModel
from npc_engine.turn.types import Player
from npc_engine.world import load_world_definition
from personas.schema import NpcPersona

MakeEngine = Callable[..., Engine]

DEMO_WORLD = Path(__file__).resolve().parents[2] / "examples" / "demo_world"
START_STAGE = "stranger"
NPCS = ("brannoc", "ithrien", "marisol", "dorran", "sable")


@dataclass(frozen=True)
class Secret:
    path: str
    doc_id: str
    title: str
    body: str
    canary: str
    known_by: Any  # "everyone" or {npcs, factions, roles}
    requires_flags: tuple[str, ...]
    min_stage: str | None

    @property
    def canary_sentence(self) -> str:
        """The sentence that carries the canary, with the canary and Markdown taken out."""
        flat = " ".join(self.body.replace("**", "").split())
        sentence = next(s for s in re.split(r"(?<=[.!?])\s+", flat) if self.canary in s)
        return " ".join(sentence.replace(self.canary, "").replace(" ,", ",").split())


@cache
def stages() -> tuple[str, ...]:
    raw = yaml.safe_load((DEMO_WORLD / "world.yaml").read_text(encoding="utf-8"))
    return tuple(raw["relationship_stages"])


@cache
def npc(persona_id: str) -> NpcPersona:
    found = load_world_definition(DEMO_WORLD).personas[persona_id]
    assert isinstance(found, NpcPersona)
    return found


@cache
def secrets() -> tuple[Secret, ...]:
    out = []
    for path in sorted((DEMO_WORLD / "lore").rglob("*.md")):
        _, front, body = path.read_text(encoding="utf-8").split("---\n", 2)
        meta = yaml.safe_load(front)
        if meta.get("secret") is True:
            out.append(
                Secret(
                    path=str(path.relative_to(DEMO_WORLD / "lore")).removesuffix(".md"),
                    doc_id=meta["id"],
                    title=meta["title"],
                    body=body,
                    canary=meta["canary"],
                    known_by=meta.get("known_by", "everyone"),
                    requires_flags=tuple(meta.get("requires_flags") or ()),
                    min_stage=meta.get("min_stage"),
                )
            )
    return tuple(out)


def admits(secret: Secret, persona: NpcPersona, flags: Iterable[str], stage: str) -> bool:
    known = secret.known_by
    knows = known == "everyone" or (
        persona.id in known.get("npcs", [])
        or bool({persona.faction, *persona.knowledge_scope.factions} & set(known.get("factions", [])))
        or bool({persona.role, *persona.knowledge_scope.roles} & set(known.get("roles", [])))
    )
    stage_ok = secret.min_stage is None or stages().index(stage) >= stages().index(secret.min_stage)
    return knows and set(secret.requires_flags) <= set(flags) and stage_ok


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
        if not admits(secret, npc(persona_id), [], START_STAGE)
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
    admitted = [(s, p) for s in secrets() for p in NPCS if admits(s, npc(p), [], START_STAGE)]
    assert [(s.path, p) for s, p in admitted if s.requires_flags or s.min_stage is not None] == []
    assert len(hidden_cases()) == 2 * (len(secrets()) * len(NPCS) - len(admitted)) == 120


def test_the_admission_rules_admit_the_right_npc_once_the_player_has_earned_it() -> None:
    vault = next(s for s in secrets() if s.path == "ironhold/sealed-vault")
    assert admits(vault, npc("brannoc"), [], "friend")  # ironhold smith, friend-level lore
    assert not admits(vault, npc("brannoc"), [], "acquaintance")
    assert not admits(vault, npc("ithrien"), [], "confidant")  # not ironhold
    informant = next(s for s in secrets() if s.path == "crown/watch-informant")
    assert admits(informant, npc("dorran"), ["quest.ashes_started"], START_STAGE)
    assert not admits(informant, npc("dorran"), [], "confidant")


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
    assert admits(vault, npc("brannoc"), [], stage)
    await engine.npc_turn(
        "brannoc", Player(id=player), "Who may speak the door-word of the Sealed Vault at the Silent Anvil?"
    )
    prompt = "\n".join(m.content for m in model.requests[0].messages)
    assert vault.canary in prompt
