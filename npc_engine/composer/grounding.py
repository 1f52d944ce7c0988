"""What the grounded composer answers from: the turn's grounding, as plain frozen data.

The engine builds one :class:`Grounding` per NPC turn, *after* gating and the input
guard have run, and hands it to the LLM request (``ChatRequest.grounding``) so that the
composer can answer the same turn without a model. Everything in it is already safe to
say to this player:

* ``lore`` holds only notes this player may see, best first;
* ``memories`` holds what this NPC remembers about this player, best first;
* ``deflection``, when set, means the turn was blocked by content policy: the composer
  says that line in voice and uses nothing else.

The composer never looks anywhere else, so a reply can hold no fact the engine did not
put here.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from personas.schema import NpcPersona

__all__ = ["Grounding", "LoreNote"]


@dataclass(frozen=True, slots=True)
class LoreNote:
    """One lore note (or retrieved chunk) the player may see; ``text`` may be Markdown."""

    id: str
    title: str
    text: str


@dataclass(frozen=True, slots=True)
class Grounding:
    """Everything one composed reply may draw on."""

    persona: NpcPersona
    player_text: str
    locale: str  # reply language: "en", "es", "zh", "hi", "fr", "de", ... (BCP-47; the prefix decides)
    lore: Sequence[LoreNote] = ()  # visible to this player, best first (already gated: safe to use)
    memories: Sequence[str] = ()  # facts this NPC remembers about this player, best first
    emotion: str = "neutral"  # dominant emotion label, one of EMOTIONS or "neutral"
    stage: str = "stranger"  # relationship stage name
    player_name: str | None = None
    deflection: str | None = None  # set: the turn was blocked; say this (in voice), nothing from lore
