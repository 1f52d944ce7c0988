"""Validate a model's reply before any of it reaches the player.

Checks, in order: the reply parses; it does not leak (a canary or a run of words from
lore this player may not know, the system prompt, an out-of-world term); it passes the
content policy for the player's region and age; it stays in character (the NPC's own
name, no looping). Actions are filtered separately: only actions on the persona's
allow-list with arguments that match their schema survive; the rest are dropped and
logged, and never fail the reply (a good line of dialogue with a bad action is still a
good line of dialogue).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import structlog

from npc_engine.guard.character import character_problems
from npc_engine.guard.output import OutputGuard
from npc_engine.turn.reply_format import MAX_REPLY_CHARS, parse_reply
from npc_engine.turn.types import ActionOut
from personas.schema import EMOTIONS, NpcPersona

__all__ = ["Verdict", "filter_actions", "validate_reply"]

log = structlog.get_logger("npc_engine.turn")

_SCAFFOLD_TAG = re.compile(r"</?note\b|<\|im_(start|end)\|>|\bPlayer:\s", re.IGNORECASE)
PolicyCheck = Callable[[str], str | None]  # text -> "rule id" when the output breaks the policy


@dataclass(slots=True)
class Verdict:
    ok: bool
    text: str
    emotion: str | None
    actions: list[ActionOut] = field(default_factory=list)
    dropped_actions: list[dict[str, Any]] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


def filter_actions(persona: NpcPersona, proposed: list[Any]) -> tuple[list[ActionOut], list[dict[str, Any]]]:
    """(actions to pass to the game, dropped ones with the reason)."""
    kept: list[ActionOut] = []
    dropped: list[dict[str, Any]] = []
    for item in proposed[:8]:
        if not isinstance(item, dict) or not isinstance(item.get("name"), str):
            dropped.append({"action": repr(item)[:200], "reason": "not an {name, args} object"})
            continue
        name, args = item["name"], item.get("args", {})
        spec = persona.action(name)
        if spec is None:
            dropped.append({"action": name[:64], "reason": "not on the persona's allow-list"})
            continue
        problems = spec.validate_args(args)
        if problems:
            dropped.append({"action": name, "reason": "; ".join(problems)[:300]})
            continue
        kept.append(ActionOut(name=name, args=dict(args)))
    return kept, dropped


def validate_reply(
    raw: str,
    *,
    persona: NpcPersona,
    guard: OutputGuard,
    policy: PolicyCheck | None = None,
    aliases: tuple[str, ...] = (),
) -> Verdict:
    parsed = parse_reply(raw)
    if parsed.problem:
        return Verdict(ok=False, text="", emotion=None, problems=[parsed.problem])
    # control characters (NUL above all: PostgreSQL refuses it in text) never reach the player
    text = "".join(ch for ch in parsed.text[:MAX_REPLY_CHARS] if ch in "\n\t" or ch.isprintable()).strip()
    problems = [f"{v.kind}:{v.source}" for v in guard.check(text)]
    if _SCAFFOLD_TAG.search(text):
        problems.append("system_prompt:note_tag")
    rule = policy(text) if policy else None
    if rule:
        problems.append(f"policy:{rule}")
    problems += [
        f"character:{p}"
        for p in character_problems(
            text, persona_name=persona.name, aliases=(*persona.localized_names.values(), *aliases)
        )
    ]
    actions, dropped = filter_actions(persona, parsed.actions)
    for item in dropped:
        log.warning("turn.action_dropped", persona=persona.id, **item)
    emotion = parsed.emotion if parsed.emotion in (*EMOTIONS, "neutral") else None
    return Verdict(
        ok=not problems,
        text=text,
        emotion=emotion,
        actions=actions,
        dropped_actions=dropped,
        problems=problems,
    )
