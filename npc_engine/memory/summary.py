"""The rolling summary of older messages: extractive, deterministic, bounded in tokens.

When history outgrows its budget the engine folds the oldest messages into the summary
with :func:`summarise`. No model is called, so a replayed conversation gets the same
summary. The summary is plain lines::

    Known about the player: The player's name is Kael. The player is from Saltmere.
    Player asked: "Where is the vault?"; Brannoc said: "The vault is sealed."
    Player said: "I will find a way in."; Brannoc said: "Many have tried."

- The first line, when there are facts, lists what is known about the player: the facts
  of the previous summary's line plus :func:`~npc_engine.memory.facts.extract_facts` of
  every folded player message (all languages), deduplicated by key (a newer name, origin
  or taste replaces the older; other facts by text), oldest first.
- Then one line per exchange, oldest first: the previous summary's lines, kept as they
  were (each trimmed, at most 400 characters), then a line per folded player message with
  the NPC messages that answered it. Each message contributes its first sentence, cut to
  about 100 characters; "asked" when that sentence ends with a question mark.

Bound. The result never exceeds ``max_tokens`` (counted with
:func:`knowledge.tokens.count_tokens`, ``cl100k_base``): exchange lines are dropped oldest
first; if the facts line alone is still too long, facts are dropped lowest importance
first (the oldest among equals), and at last the line itself. Message text cannot forge a
line: newlines and control characters are collapsed to spaces.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence

from knowledge.tokens import count_tokens
from npc_engine.errors import InvalidInputError
from npc_engine.memory.facts import Fact, _fact_from_text, extract_facts

__all__ = ["summarise"]

_HEADER = "Known about the player:"
_MAX_PART = 100
_MAX_PREVIOUS_LINE = 400
_ROLES = {"player": "player", "user": "player", "npc": "npc", "assistant": "npc"}
_FIRST_SENTENCE = re.compile(r".+?(?:[.!?。！？।…]+(?=\s|$)|[。！？।]+|$)", re.DOTALL)
_FACT_SPLIT = re.compile(r"\s+(?=The player)")


def _clean(text: str) -> str:
    """One line: control, format and surrogate characters out, whitespace collapsed."""
    text = unicodedata.normalize("NFC", text)
    kept = "".join(" " if unicodedata.category(ch) in ("Cc", "Zl", "Zp") else ch for ch in text)
    kept = "".join(ch for ch in kept if unicodedata.category(ch) not in ("Cf", "Cs"))
    return " ".join(kept.split())


def _cap(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    space = cut.rfind(" ")
    return (cut[:space] if space > limit // 2 else cut).rstrip(" ,;:") + "…"


def _first_sentence(text: str) -> str:
    cleaned = _clean(text)
    match = _FIRST_SENTENCE.match(cleaned)
    sentence = match.group().strip() if match else cleaned
    return _cap(sentence.replace('"', "'"), _MAX_PART)


def _add(facts: dict[str, Fact], fact: Fact) -> None:
    slot = fact.key or f"text:{fact.text}"
    facts.pop(slot, None)
    facts[slot] = fact


def _facts_line(facts: list[Fact]) -> str:
    return f"{_HEADER} " + " ".join(fact.text for fact in facts) if facts else ""


def _parse_previous(previous: str, facts: dict[str, Fact], lines: list[str]) -> None:
    for raw in previous.splitlines():
        line = _clean(raw)
        if not line:
            continue
        if line.startswith(_HEADER):
            for text in _FACT_SPLIT.split(line[len(_HEADER) :].strip()):
                if text:
                    _add(facts, _fact_from_text(text))
        else:
            lines.append(_cap(line, _MAX_PREVIOUS_LINE))


def _exchange_lines(messages: Sequence[tuple[str, str]], npc: str, facts: dict[str, Fact]) -> list[str]:
    lines: list[str] = []
    current = ""
    for position, message in enumerate(messages):
        if len(message) != 2:
            raise InvalidInputError(f"message {position} must be a (role, text) pair")
        role, text = message
        who = _ROLES.get(str(role).strip().lower())
        if who is None:
            raise InvalidInputError(f"message {position} has role {role!r}; use 'player' or 'npc'")
        sentence = _first_sentence(str(text))
        if who == "player":
            for fact in extract_facts(str(text)):
                _add(facts, fact)
            if current:
                lines.append(current)
                current = ""
            if sentence:
                verb = "asked" if sentence.rstrip("…").endswith(("?", "？")) else "said"
                current = f'Player {verb}: "{sentence}"'
        elif sentence:
            part = f'{npc} said: "{sentence}"'
            current = f"{current}; {part}" if current else part
    if current:
        lines.append(current)
    return lines


def _render(facts: list[Fact], lines: list[str]) -> str:
    head = _facts_line(facts)
    return "\n".join([head, *lines] if head else lines)


def _fit(facts: list[Fact], lines: list[str], max_tokens: int) -> str:
    # a quick cut with per-line counts (each line plus its newline), then exact counts
    costs = [count_tokens(line) + 1 for line in lines]
    budget = max_tokens - (count_tokens(_facts_line(facts)) + 1 if facts else 0)
    start, total = 0, sum(costs)
    while start < len(lines) and total > budget:
        total -= costs[start]
        start += 1
    lines = lines[start:]
    text = _render(facts, lines)
    while text and count_tokens(text) > max_tokens:
        if lines:
            lines = lines[1:]
        else:
            weakest = min(range(len(facts)), key=lambda i: (facts[i].importance, i))
            facts = facts[:weakest] + facts[weakest + 1 :]
        text = _render(facts, lines)
    return text


def summarise(
    previous: str, messages: Sequence[tuple[str, str]], *, npc_name: str, max_tokens: int = 200
) -> str:
    """Fold ``messages`` ((role, text), oldest first; role ``"player"`` or ``"npc"``) into ``previous``.

    Returns the new summary, at most ``max_tokens`` tokens (see the module docstring for
    its layout). Raises :class:`~npc_engine.errors.InvalidInputError` for ``max_tokens <
    1`` or a message that is not a (role, text) pair with a known role (``"user"`` and
    ``"assistant"`` are accepted as aliases).
    """
    if isinstance(max_tokens, bool) or not isinstance(max_tokens, int) or max_tokens < 1:
        raise InvalidInputError(f"max_tokens must be an integer >= 1, not {max_tokens!r}")
    npc = _cap(_clean(npc_name), 40) or "NPC"
    facts: dict[str, Fact] = {}
    lines: list[str] = []
    _parse_previous(previous, facts, lines)
    lines.extend(_exchange_lines(messages, npc, facts))
    return _fit(list(facts.values()), lines, max_tokens)
