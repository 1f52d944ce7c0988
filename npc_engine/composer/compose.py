"""The grounded composer: a deterministic, model-free reply in the NPC's voice.

It is the engine's floor: when the LLM fails, times out, leaks or breaks character, the
turn is answered by :func:`compose` instead, so an NPC never goes silent. It is also a
chat backend in its own right (``composer``, see :mod:`npc_engine.composer.model`).

**Only what it is handed.** A reply is a frame line from :mod:`~npc_engine.composer.templates`
(opener, "here is what I know", "you told me", a closer) around sentences quoted
*verbatim* from ``Grounding.lore`` and ``Grounding.memories``. Nothing else can reach
the text, so the composer cannot invent a fact; when nothing applies it says the
register's "I don't know" line.

**Choosing what to quote.** Lore Markdown is reduced to prose: front matter, headings,
rules, code fences and comments go; bullets, numbers, ``**`` and links are unwrapped;
hard-wrapped lines of one paragraph or list item are joined. Prose is split into
sentences on ``. ! ?`` (before a space), ``。！？।`` and block breaks. A sentence that
:func:`~npc_engine.guard.injection.scan_injection` finds suspicious is dropped: lore is
data, and an instruction hidden in it is never repeated. Sentences are scored by the
player's words they share (case-folded, stop words dropped, a plural ``s`` trimmed;
Chinese, Japanese and Korean by character bigrams), each word weighted by how rare it
is among the candidates. The best one or two sentences are quoted (the second only when
it scores at least half the first), each clipped at :data:`MAX_FACT_CHARS`, the reply at
:data:`MAX_REPLY_CHARS`. When nothing overlaps but lore exists, the first sentence of
the best (first) note is quoted rather than nothing — unless a memory applies or the
player only greeted, in which case the NPC answers that instead.

**Memories** are mentioned only when one shares a word with the player's text.

**Languages.** The frame is in the locale's language (full tables: en, es, zh, hi, fr,
de; others fall back to English), but quoted lore stays as written: with English lore
and ``locale="zh"`` the frame is Chinese and the fact English. There is no machine
translation here, and an honest quote beats a made-up paraphrase. The persona's
catchphrases are written in the world's language, so they close replies only in English.

**Deterministic.** Variants are chosen by a stable hash of the persona id and the
player's text (never :mod:`random`): the same grounding always gives the same reply.
"""

from __future__ import annotations

import hashlib
import math
import re
import unicodedata
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from npc_engine.composer.grounding import Grounding, LoreNote
from npc_engine.composer.templates import Voice, emotion_family, language_of, voice
from npc_engine.guard.injection import scan_injection
from personas.schema import EMOTIONS

__all__ = ["MAX_FACT_CHARS", "MAX_REPLY_CHARS", "ComposedReply", "compose"]

MAX_FACT_CHARS = 240
"""A quoted lore sentence or memory longer than this is clipped (with "…")."""
MAX_REPLY_CHARS = 600
"""The whole reply never exceeds this many characters."""
_NAMED_STAGES = frozenset({"friend", "confidant"})


@dataclass(frozen=True, slots=True)
class ComposedReply:
    """A composed reply: its text, the emotion it is said with, and the lore note ids it quotes."""

    text: str
    emotion: str
    cited: tuple[str, ...]


# --- Markdown to sentences -------------------------------------------------------------

_FRONT_MATTER = re.compile(r"\A\s*---[ \t]*\n.*?\n---[ \t]*(?:\n|\Z)", re.DOTALL)
_COMMENT = re.compile(r"<!--.*?-->", re.DOTALL)
_FENCE = re.compile(r"^\s*(?:```|~~~)")
_HEADING = re.compile(r"^\s{0,3}#{1,6}(?:\s|$)")
_RULE = re.compile(r"^\s*([-*_=])(?:\s*\1){2,}\s*$")
_TABLE_RULE = re.compile(r"^\s*\|?[\s:|-]*-[\s:|-]*$")
_ITEM = re.compile(r"^\s*(?:[-*+•]|\d{1,3}[.)])\s+")
_QUOTE = re.compile(r"^\s*(?:>\s?)+")
_LINK = re.compile(r"!?\[([^\]]*)\]\([^)]*\)")
_MARKS = re.compile(r"\*\*|__|`+")
_STAR = re.compile(r"(?<![\w*])\*(?=\S)([^*\n]+?)(?<=\S)\*(?![\w*])")
_SPACES = re.compile(r"\s+")
_SENTENCE_END = re.compile(r"[.!?]+[\"'”’)\]]*(?=\s|$)|[。！？।]+[\"'”’)\]」』]*")
_CJK = "\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uac00-\ud7af"
_CJK_CHAR = re.compile(f"[{_CJK}]")


def _inline(text: str) -> str:
    text = _MARKS.sub("", _LINK.sub(r"\1", text))
    return _SPACES.sub(" ", _STAR.sub(r"\1", text)).strip()


def _join_lines(lines: list[str]) -> str:
    out = ""
    for line in lines:
        glue = "" if not out or (_CJK_CHAR.match(out[-1]) and _CJK_CHAR.match(line[0])) else " "
        out += glue + line
    return out


def _blocks(markdown: str) -> list[str]:
    """Paragraphs, list items and table rows of ``markdown`` as plain one-line text."""
    text = _COMMENT.sub(" ", _FRONT_MATTER.sub("", markdown.replace("\r\n", "\n")))
    blocks: list[str] = []
    current: list[str] = []
    fenced = False

    def flush() -> None:
        if current:
            blocks.append(_inline(_join_lines(current)))
            current.clear()

    for raw in text.split("\n"):
        if _FENCE.match(raw):
            fenced = not fenced
            flush()
            continue
        if fenced or not raw.strip() or _HEADING.match(raw) or _RULE.match(raw) or _TABLE_RULE.match(raw):
            flush()
            continue
        line = _QUOTE.sub("", raw)
        if line.lstrip().startswith("|"):
            flush()
            blocks.append(
                _inline("; ".join(c.strip() for c in line.strip().strip("|").split("|") if c.strip()))
            )
            continue
        if _ITEM.match(line):
            flush()
            line = _ITEM.sub("", line, count=1)
        current.append(line.strip())
    flush()
    return [b for b in blocks if b]


def _without_trail(text: str, title: str) -> str:
    """Drop the heading trail ("Title > Section") that every indexed lore chunk starts with."""
    first, sep, rest = text.partition("\n")
    line = first.strip()
    if sep and (line == title.strip() or (" > " in line and not _SENTENCE_END.search(line))):
        return rest
    return text


def _sentences(markdown: str) -> list[str]:
    out: list[str] = []
    for block in _blocks(markdown):
        start = 0
        for match in _SENTENCE_END.finditer(block):
            out.append(block[start : match.end()].strip())
            start = match.end()
        out.append(block[start:].strip())
    return [s for s in out if sum(ch.isalpha() for ch in s) >= 4 and not scan_injection(s).suspicious]


def _clip(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    space = cut.rfind(" ")
    if space > limit // 2:
        cut = cut[:space]
    return cut.rstrip(" ,;:-–—") + "…"


# --- Relevance -------------------------------------------------------------------------

_STOP_WORDS = (  # en, es, fr, de, hi, zh: question words and glue that say nothing about the topic
    "an the and or but of to in on at for with about from by as is are was were be been am do does did "
    "what who whom which when where why how that this these those it its me my you your we our they "
    "them their he him his she her can could would should will shall may might must have has had tell "
    "know there here not no yes any some all so if then than too very just also please anything "
    "something more much many into over like well let give say said get got one thing "
    "el la lo los las de del que en un una por para con sobre es se al como cómo qué sabes dime "
    "le les des du une et est qui quoi sur pour avec dans te tu vous je il elle ce sais dis moi "
    "der die das und ist ein eine zu von mit was wer wie über ich du sie es mir dir den dem weißt "
    "के का की है हैं में से को और क्या मुझे तुम आप बताओ यह वह पर भी तो "
    "什么 知道 告诉 关于 这个 那个 怎么 一下 的 了 是 吗 我 你 他 她 它 在 有 和 呢 吧"
)
_STOP = frozenset(_STOP_WORDS.split())
_WORD = re.compile(r"[\w\u0900-\u0dff]+")  # \w plus the Indic vowel signs and viramas \w leaves out
_CJK_RUN = re.compile(f"[{_CJK}]+")


def _add_word(out: set[str], word: str) -> None:
    if len(word) < 2 or word in _STOP:
        return
    if word.isascii() and len(word) > 3 and word.endswith("s") and not word.endswith("ss"):
        word = word[:-1]
    if word not in _STOP:
        out.add(word)


def _tokens(text: str) -> set[str]:
    """Content words of ``text``, case-folded; runs of CJK characters as character bigrams."""
    out: set[str] = set()
    for word in _WORD.findall(unicodedata.normalize("NFKC", text).casefold()):
        pos = 0
        for run in _CJK_RUN.finditer(word):
            _add_word(out, word[pos : run.start()])
            chars = run.group()
            grams = {chars} if len(chars) == 1 else {chars[i : i + 2] for i in range(len(chars) - 1)}
            out.update(grams - _STOP)
            pos = run.end()
        _add_word(out, word[pos:])
    return out


def _relevant_facts(lore: Sequence[LoreNote], query: set[str]) -> list[tuple[str, str]]:
    """Up to two ``(note id, sentence)`` pairs, most relevant to ``query`` first."""
    candidates = [
        (note_index, sentence_index, note.id, sentence, _tokens(sentence) & query)
        for note_index, note in enumerate(lore)
        for sentence_index, sentence in enumerate(_sentences(_without_trail(note.text, note.title)))
    ]
    df = Counter(token for *_, shared in candidates for token in shared)
    # Rarer shared words weigh more; summed in sorted order so every process gets the same float.
    scored = sorted(
        (
            (
                -sum(math.log(1 + len(candidates) / df[t]) for t in sorted(shared)),
                note_index,
                sentence_index,
                note_id,
                s,
            )
            for note_index, sentence_index, note_id, s, shared in candidates
            if shared
        ),
    )
    picked: list[tuple[str, str]] = []
    best = 0.0
    for neg_score, _, _, note_id, sentence in scored:
        quoted = _clip(sentence, MAX_FACT_CHARS)
        if not picked:
            best = -neg_score
        elif -neg_score < best / 2 or quoted == picked[0][1]:
            continue
        picked.append((note_id, quoted))
        if len(picked) == 2:
            break
    return picked


def _first_fact(lore: Sequence[LoreNote]) -> list[tuple[str, str]]:
    for note in lore:
        sentences = _sentences(_without_trail(note.text, note.title))
        if sentences:
            return [(note.id, _clip(sentences[0], MAX_FACT_CHARS))]
    return []


# "You told me The player..." reads better as "You told me the player..."; names keep their capital.
_LEADING_FUNCTION_WORD = re.compile(r"^(?:The|A|An|He|She|They|It|His|Her|Their|That|This)\b")


def _relevant_memory(memories: Sequence[str], query: set[str]) -> str | None:
    best: str | None = None
    best_shared = 0
    for memory in memories:
        text = _SPACES.sub(" ", memory).strip().rstrip(".!?。！？।")
        if not text or scan_injection(text).suspicious:
            continue
        shared = len(_tokens(text) & query)
        if shared > best_shared:
            best, best_shared = _clip(text, MAX_FACT_CHARS), shared
    return best


_GREETING = re.compile(
    r"^(?:good (?:morning|day|evening|afternoon)|well met|greetings|howdy|hiya|hello|hallo|hullo|hey|hi|yo"
    r"|hola|buen[oa]s(?: d[ií]as| tardes| noches)?|saludos|bonjour|bonsoir|salut|coucou"
    r"|guten (?:tag|morgen|abend)|servus|moin|gr[üu](?:ß|ss) (?:dich|gott)|namaste|namaskar)(?!\w)"
    r"|^(?:你好|您好|嗨|哈喽|早上好|晚上好|大家好|नमस्ते|नमस्कार|प्रणाम)"
)


def _is_greeting(text: str) -> bool:
    norm = unicodedata.normalize("NFKC", text).casefold().lstrip(" \t\n¡¿!?.,:;-—\"'“”‘’*~")
    return bool(_GREETING.match(norm))


# --- Composition -----------------------------------------------------------------------


def _pick(options: Sequence[str], seed: str, slot: str) -> str:
    digest = hashlib.blake2b(f"{seed}\x1f{slot}".encode(), digest_size=8).digest()
    return options[int.from_bytes(digest, "big") % len(options)]


def _join(parts: Sequence[str], v: Voice) -> str:
    return v.joiner.join(p for p in parts if p)


def compose(g: Grounding) -> ComposedReply:
    """Answer ``g.player_text`` in ``g.persona``'s voice from ``g``'s lore and memories alone."""
    v = voice(g.persona.speech_style.register, g.locale)
    seed = f"{g.persona.id}\x1f{g.player_text}"
    emotion = g.emotion if g.emotion in EMOTIONS else "neutral"
    name = (g.player_name or "").strip()
    address = v.vocative.format(name=name) if name and g.stage in _NAMED_STAGES else ""
    opener = _pick(v.openers(emotion_family(emotion)), seed, "opener").format(a=address)

    if g.deflection is not None:
        deflection = _clip(_SPACES.sub(" ", g.deflection).strip(), MAX_REPLY_CHARS - len(opener) - 1)
        return ComposedReply(_join([opener, deflection], v), emotion, ())

    catchphrases = tuple(g.persona.speech_style.catchphrases) if language_of(g.locale) == "en" else ()
    closer = _pick(v.closers + catchphrases, seed, "closer")
    query = _tokens(g.player_text)
    facts = _relevant_facts(g.lore, query)
    memory = _relevant_memory(g.memories, query)
    if not facts and memory is None:
        if _is_greeting(g.player_text):
            greeting = _pick(v.greeting, seed, "greeting").format(a=address)
            return ComposedReply(_clip(_join([greeting, closer], v), MAX_REPLY_CHARS), emotion, ())
        facts = _first_fact(g.lore)

    body = [opener]
    if memory is not None:
        if language_of(g.locale) == "en":
            memory = _LEADING_FUNCTION_WORD.sub(lambda m: m.group().lower(), memory)
        body.append(_pick(v.memory, seed, "memory").format(memory=memory))
    know = _pick(v.know, seed, "know")
    if not facts and memory is None:
        body.append(_pick(v.unknown, seed, "unknown"))
    text, used = "", facts
    # Over the cap: drop the closer, then the second fact, then clip.
    for used, last in ((facts, closer), (facts, ""), (facts[:1], "")):
        lines = [*body, know.format(fact=" ".join(s for _, s in used))] if used else body
        text = _join([*lines, last], v)
        if len(text) <= MAX_REPLY_CHARS:
            break
    cited = tuple(dict.fromkeys(note_id for note_id, _ in used))
    return ComposedReply(_clip(text, MAX_REPLY_CHARS), emotion, cited)
