"""Facts about the player, pulled out of their message by hand-written patterns (no model).

:func:`extract_facts` reads a player's message in English, Spanish, Chinese or Hindi
(Devanagari and common romanised forms) and returns :class:`Fact` values such as
``Fact("The player's name is Kael.", 0.9, "name", "name")``; same text, same facts.

Facts are written from **English templates with the player's words kept verbatim**
("me gusta la pesca" → "The player likes la pesca.", "我来自北京" → "The player is from
北京."): the NPC prompt is framed in English, models read mixed text well, and a verbatim
span never mistranslates a name or place. Relation words (hermano, 哥哥, भाई) and event
verbs come from small tables; in English spans "my"/"me"/"I" become "their"/"them"/"they".

Reading. Control, format and surrogate characters are dropped; the first 4,000 characters
are cut into sentences, and a question ("?", "¿", "吗", "क्या", "do you ...") yields
nothing. Sentences are cut into clauses at clause punctuation and at conjunctions that
start a new first-person clause ("... and I'm from ..."). In each clause the rules
(:data:`~npc_engine.memory.fact_patterns.RULES`, specific first) are tried in order, at
most one fact per kind. A rule is skipped when negated: a negator among the two words
before it (``not``, ``no``, ``nunca``, ...), 不/没/别 just before it, or नहीं/मत/nahi inside
a Hindi span. Negated likes have their own rules ("I don't like X", "no me gusta X",
"我不喜欢X", "मुझे X पसंद नहीं") and give a ``dislike``.

Names. "my name is" / "me llamo" / "我叫" / "मेरा नाम ... है" take the next token; "call
me" needs it capitalised; a bare "I'm X" / "soy X" needs a capitalised word, not a common
adjective, that ends the clause: "I'm tired" and "I'm Going home" are not names. Spans stop
at clause punctuation, are cut to about 60 characters and lose brackets, quotes and markup
characters; no fact is longer than 160 characters.

Keys: ``name``, ``origin`` and ``occupation`` are single-valued (the newer supersedes);
likes and dislikes share ``taste:<object>``, so "I hate fishing" replaces "I like
fishing"; goals, relations, promises and events accumulate (``key=None``).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import cache

from npc_engine.memory.fact_patterns import (
    CJK_NAME_STOP,
    CJK_NEG,
    CLAUSE,
    LANGUAGES,
    NAME_STOP,
    NEGATORS,
    QUESTION_ANYWHERE,
    QUESTION_START,
    RELATIONS,
    RULES,
    SENTENCE,
    VERBS,
)

__all__ = ["Fact", "extract_facts"]

_MAX_INPUT = 4000
_MAX_SPAN = 60
_MAX_FACT = 160
_IMPORTANCE = {"name": 0.9, "promise": 0.7, "goal": 0.7, "origin": 0.6, "occupation": 0.6, "relation": 0.6,
              "preference": 0.5, "dislike": 0.5, "event": 0.5}  # fmt: skip
_SINGLE_VALUED = frozenset({"name", "origin", "occupation"})


@dataclass(frozen=True, slots=True)
class Fact:
    """One thing the NPC learned about the player, in the third person."""

    text: str  # "The player's name is Kael."
    importance: float  # 0..1
    kind: str  # name | origin | occupation | preference | dislike | goal | relation | promise | event
    key: str | None  # a newer fact with the same key supersedes the older; None accumulates


_LATIN_TOKEN = re.compile(r"[^\W\d_](?:[\w'-]*[^\W_])?")
_NEXT_TOKEN = re.compile(r"\s(" + _LATIN_TOKEN.pattern + ")")
_DROP = str.maketrans("", "", '<>{}[]`"“”«»*_#|\\')
_EN_PRONOUNS = (
    (r"\bI am\b", "they are"), (r"\bI was\b", "they were"), (r"\bI'm\b", "they're"), (r"\bI've\b", "they've"),
    (r"\bI'll\b", "they'll"), (r"\bI'd\b", "they'd"), (r"\bI\b", "they"), (r"\bmy\b", "their"),
    (r"\bmyself\b", "themselves"), (r"\bmine\b", "theirs"), (r"\bme\b", "them"),
)  # fmt: skip


@cache
def _compiled(lang: str) -> tuple[tuple[str, str, re.Pattern[str], str], ...]:
    return tuple(
        (lang, kind, re.compile(pattern, re.IGNORECASE), template)
        for rule_lang, kind, pattern, template in RULES
        if rule_lang == lang
    )


def _languages(locale: str | None) -> tuple[str, ...]:
    if locale:
        lang = re.split(r"[-_]", locale.strip().lower(), maxsplit=1)[0]
        if lang in LANGUAGES:
            return (lang,) if lang == "en" else ("en", lang)
    return LANGUAGES


def _sanitize(text: str) -> str:
    """NFC; control, format and surrogate characters dropped (newlines kept); curly apostrophes straight."""
    text = unicodedata.normalize("NFC", text).replace("\u2019", "'").replace("\r", "\n").replace("\t", " ")
    return "".join(ch for ch in text if ch == "\n" or unicodedata.category(ch) not in ("Cc", "Cf", "Cs"))


def _prepare(text: str) -> str:
    text = re.sub(r"\bcan't\b", "cannot", text, flags=re.IGNORECASE)
    text = re.sub(r"\bwon't\b", "will not", text, flags=re.IGNORECASE)
    text = re.sub(r"n't\b", " not", text, flags=re.IGNORECASE)
    return text.replace("\u0901", "\u0902")  # Devanagari chandrabindu → anusvara: हूँ = हूं


def _is_question(sentence: str) -> bool:
    body = sentence.strip()
    stripped = body.rstrip(".!。！।॥… ")
    return (
        "?" in body or "？" in body or body.startswith("¿") or bool(QUESTION_START.match(body))
        or bool(QUESTION_ANYWHERE.search(stripped))
    )  # fmt: skip


def _negated(clause: str, start: int, span: str, lang: str) -> bool:
    before = clause[:start]
    if lang == "zh":
        return any(ch in CJK_NEG for ch in before[-2:])
    words = re.findall(r"\S+", before.casefold())[-2:]
    if any(w.strip("'") in NEGATORS for w in words):
        return True
    return lang == "hi" and any(w in NEGATORS for w in span.casefold().split())


def _clip(span: str, lang: str) -> str:
    span = " ".join(span.translate(_DROP).split()).strip(" '.,;:!?-…")
    if lang == "es" and span[:2].casefold() == "a ":  # the personal "a": "busco a mi hermano"
        span = span[2:]
    if len(span) > _MAX_SPAN:
        cut = span[:_MAX_SPAN]
        space = cut.rfind(" ")
        span = (cut[:space] if space > _MAX_SPAN // 2 else cut).rstrip(" '.,;:-")
    if lang == "en":
        for pattern, repl in _EN_PRONOUNS:
            span = re.sub(pattern, repl, span, flags=re.IGNORECASE)
    return span if any(ch.isalpha() for ch in span) else ""


def _name(span: str, mode: str) -> str:
    """The name at the start of ``span`` under ``mode`` (explicit, capital, implicit), or ``""``."""
    span = span.translate(_DROP).strip()
    if not span:
        return ""
    if "\u4e00" <= span[0] <= "\u9fff":
        name = ""
        for ch in span[:6]:
            if ch in CJK_NAME_STOP or not ("\u4e00" <= ch <= "\u9fff" or ch == "·"):
                break
            name += ch
        return "" if not name or name[0] in "你他她它您不没" else name
    if "\u0900" <= span[0] <= "\u097f":
        words = span.split()[:3]
        return "" if any(w in NEGATORS or w == "क्या" for w in words) else " ".join(words)
    first = _LATIN_TOKEN.match(span)
    if first is None or first.group().casefold() in NAME_STOP:
        return ""
    token = first.group()
    if mode != "explicit" and (not token[0].isupper() or (len(token) > 1 and token.isupper())):
        return ""
    tokens, end = [token], first.end()
    while len(tokens) < 3:
        nxt = _NEXT_TOKEN.match(span, end)
        if nxt is None or not nxt.group(1)[0].isupper() or nxt.group(1).casefold() in NAME_STOP:
            break
        tokens.append(nxt.group(1))
        end = nxt.end()
    if mode == "implicit" and span[end:].strip(" .!'"):
        return ""
    return " ".join(tokens)[:40]


def _fact(kind: str, template: str, match: re.Match[str], lang: str) -> Fact | None:
    groups = match.groupdict()
    raw = groups.get("x") or ""
    if kind.startswith("name:"):
        span, kind = _name(raw, kind.split(":", 1)[1]), "name"
    else:
        span = _clip(raw, lang)
    rel = groups.get("rel")
    if kind == "relation" and rel:
        rel_en = RELATIONS.get(_fold(rel), rel.casefold())
        if not span:
            return _make(f"The player mentioned their {rel_en}.", kind, None)
        return _make(template.format(x=span, rel=rel_en), kind, None)
    if not span:
        return None
    verb = groups.get("v")
    verb_en = VERBS.get(_fold(verb), verb.casefold()) if verb else ""
    return _make(template.format(x=span, v=verb_en), kind, _key(kind, span))


def _key(kind: str, span: str) -> str | None:
    if kind in _SINGLE_VALUED:
        return kind
    return f"taste:{span.casefold()}" if kind in ("preference", "dislike") else None


def _fold(word: str) -> str:
    decomposed = unicodedata.normalize("NFD", word.casefold())
    return unicodedata.normalize("NFC", "".join(ch for ch in decomposed if not "\u0300" <= ch <= "\u036f"))


def _make(text: str, kind: str, key: str | None) -> Fact:
    if len(text) > _MAX_FACT:
        text = text[: _MAX_FACT - 1].rstrip() + "."
    return Fact(text=text, importance=_IMPORTANCE[kind], kind=kind, key=key)


def extract_facts(text: str, *, locale: str | None = None) -> list[Fact]:
    """Facts about the player stated in ``text``, in order, deduplicated by key (the later wins).

    ``locale`` (``"es"``, ``"zh-CN"``, ``"hi_IN"``, ...) narrows the rules to that language
    plus English; ``None`` or an unknown language uses all four.
    """
    rules = [rule for lang in _languages(locale) for rule in _compiled(lang)]
    found: dict[str, Fact] = {}
    for sentence_match in SENTENCE.finditer(_prepare(_sanitize(text)[:_MAX_INPUT])):
        sentence = sentence_match.group()
        if _is_question(sentence):
            continue
        for clause in CLAUSE.split(sentence.rstrip(".!。！।॥… ")):
            clause = clause.strip()
            kinds_done: set[str] = set()
            for lang, kind, pattern, template in rules:
                base_kind = kind.split(":", 1)[0]
                if not clause or base_kind in kinds_done:
                    continue
                match = pattern.search(clause)
                if match is None or _negated(clause, match.start(), match.groupdict().get("x") or "", lang):
                    continue
                fact = _fact(kind, template, match, lang)
                if fact is not None:
                    kinds_done.add(base_kind)
                    slot = fact.key or f"text:{fact.text}"
                    found.pop(slot, None)
                    found[slot] = fact
    return list(found.values())


_PREFIXES = (
    ("The player's name is ", "name"), ("The player is from ", "origin"), ("The player works as ", "occupation"),
    ("The player likes ", "preference"), ("The player dislikes ", "dislike"), ("The player promised", "promise"),
    ("The player wants", "goal"), ("The player needs", "goal"), ("The player is looking for ", "goal"),
    ("The player mentioned their ", "relation"), ("The player's ", "relation"),
)  # fmt: skip


def _fact_from_text(text: str) -> Fact:
    """Rebuild a :class:`Fact` from its text (the summary keeps facts as text only)."""
    for prefix, kind in _PREFIXES:
        if text.startswith(prefix):
            key = _key(kind, text[len(prefix) :].rstrip("."))
            return Fact(text=text, importance=_IMPORTANCE[kind], kind=kind, key=key)
    return Fact(text=text, importance=_IMPORTANCE["event"], kind="event", key=None)
