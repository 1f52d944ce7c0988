"""An NPC's memory of one player, as pure functions (see DESIGN.md, "Memory").

The SQL state store keeps the rows; this package holds the logic it calls, with no I/O,
no clock and no model, so the same inputs always give the same outputs and turns replay:

- :mod:`.facts`: :func:`extract_facts` pulls third-person facts about the player (name,
  origin, occupation, likes, dislikes, goals, relations, promises, events) out of their
  message in English, Spanish, Chinese or Hindi, each with an importance and a dedupe key.
- :mod:`.ranking`: :func:`rank_memories` picks the memories for a turn by relevance,
  recency and importance (Generative Agents style).
- :mod:`.summary`: :func:`summarise` folds messages cut from history into a rolling,
  extractive summary that never exceeds its token budget and keeps what is known about
  the player.

Isolation is the caller's side of the contract: memories are stored and passed in per
(NPC, player), so one player's memories never reach a turn with another player.
"""

from npc_engine.memory.facts import Fact, extract_facts
from npc_engine.memory.ranking import MemoryItem, rank_memories
from npc_engine.memory.summary import summarise

__all__ = ["Fact", "MemoryItem", "extract_facts", "rank_memories", "summarise"]
