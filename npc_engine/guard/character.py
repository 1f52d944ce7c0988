"""Character checks: did a model's reply stay the persona, and is it a reply at all?

Small local models break character in two measured ways: they give the NPC another name
(SmolLM2 answered as Brannoc with "I'm Grimbold Ironfist") and they loop one sentence
until the length cap. :func:`character_problems` returns one code per problem, as
``"code"`` or ``"code: detail"`` (the code is the part before the first colon):

* ``empty`` — nothing but whitespace and punctuation;
* ``too_long: N chars (max M)`` — longer than ``max_chars``;
* ``wrong_name: X`` — the reply introduces itself as X, and no word of X is the
  persona's name, a part of it, an alias or a part of one ("I'm Grimbold Ironfist",
  "me llamo Grimbold", "我叫格林博尔德", "मेरा नाम ग्रिम्बोल्ड है");
* ``repetition`` — a sentence said three times or more (twice if 5+ words), or repeated 4-word runs
  covering more than 40% of a reply of 24 words or more (each CJK character is a word).

For Latin, Cyrillic and other cased scripts a name must look like one: capitalised,
not all capitals, not a possessive ("I'm Brannoc's apprentice"), not a word such as
"Sorry" or "Glad"; honorifics ("Captain", "Sir") are skipped. So "I'm glad to help" and
"I am a smith" pass. Chinese has no capitals: 我叫 / 我的名字是 always introduce a name,
while 我是 ("I am") counts only before a transliterated name (格林博尔德, 格林·铁拳), so
"我是铁匠" ("I am a smith") passes. Likewise Japanese 私は counts only before a full
katakana name (グリム・ボルド), so "私はハンターです" passes, while 〜と申します always names.
Not caught: lower-case names ("i'm grimbold"), all-capitals replies, Korean "저는 X입니다".
A quotation ("he said 'I'm Grimbold'") is flagged too: the check cannot tell it apart.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from collections.abc import Sequence

__all__ = ["character_problems"]

_CASED_TRIGGERS = (
    # en, es, fr, de, pt, it, nl, ru, romanised Hindi
    r"i['’]m|i am|my name is|my name['’]s|call me",
    r"me llamo|soy|mi nombre es|ll[aá]mame",
    r"je suis|je m['’]appelle|mon nom est|appelle-moi",
    r"ich hei(?:ß|ss)e|mein name ist|nenn mich",  # not "ich bin": German capitalises nouns
    r"eu sou|sou|me chamo|chamo-me|meu nome [ée]",
    r"sono|mi chiamo|il mio nome [èe]|chiamami",
    r"ik ben|ik heet|mijn naam is",
    r"меня зовут|мо[её] имя",
    r"mera naam|mera nam",
)
_CASED = re.compile(rf"(?<![^\W_])(?:{'|'.join(_CASED_TRIGGERS)})\s+", re.IGNORECASE)
_NAME_WORD = re.compile(r"[^\W\d_]+(?:[-'’][^\W\d_]+)*")
_NOT_NAMES_TEXT = """i sorry glad happy afraid sure not just only here there fine okay ok well yes no the a an
    your my so very really always still also back busy ready listening honoured honored pleased
    delighted certain alive human nobody nothing everyone someone merely simply but and or aye nay
    indeed what who how tired old new good bad now going trying looking telling here's it this that
    too quite thankful grateful sorry afraid un una el la le les der die das ein eine il lo de del
    muy très sehr molto bien bueno aquí ici hier qui"""
_NOT_NAMES = frozenset(_NOT_NAMES_TEXT.split())
_HONORIFICS_TEXT = """sir madam lady lord master mistress captain mister mr mrs ms miss dame don doña señor señora
    monsieur madame herr frau brother sister father mother friend doctor dr elder sergeant commander
    keeper"""
_HONORIFICS = frozenset(_HONORIFICS_TEXT.split())
_CJK_STRONG = re.compile(
    r"(?:我叫|我的名字是|我的名字叫|本人名叫|我名叫|私の名前は|僕の名前は|제 이름은|내 이름은)\s*"
)
_ZH_WEAK = re.compile(r"我是\s*")
_JA_WEAK = re.compile(r"(?:私|わたし|僕|俺|わし)は\s*")
_CJK_STOP = re.compile(
    r"[\s,，.。!！?？;；:：、~～)）」』\"'”’是在和]|です|だ|입니다|이에요|예요|이야|야|라고"
)
_KATAKANA_FULL_NAME = re.compile(r"^[\u30a0-\u30ff]+・[\u30a0-\u30ff]+$")  # not "コック" (a cook)
_JA_NAMED = re.compile(r"([\u30a0-\u30ff\u4e00-\u9fff]{2,10})(?:と申します|といいます|と言います|と呼んで)")
_TRANSLIT = frozenset(
    "阿埃艾安奥巴拜班贝本比宾波伯博布查达戴丹道德迪蒂杜多恩尔法菲芬弗福盖冈戈格古哈海汉赫亨胡霍基吉加贾杰金卡凯坎"
    "科克肯库拉莱兰劳勒雷里利莉林琳隆卢鲁伦罗洛马玛迈曼梅蒙米敏莫姆穆纳娜内尼涅宁纽诺欧帕佩皮普奇乔切琼萨塞赛桑瑟森"
    "沙莎尚舍什斯丝索塔泰坦特提托瓦威维沃乌西希夏谢辛休雅亚伊因英尤约泽扎詹兹朱卓丽"
)
_HINDI = re.compile(r"मेरा नाम\s+([\u0900-\u097f\s]+?)\s*(?:है|हैं|[।,.!?]|$)")
_SENTENCE_END = re.compile(r"[.!?。！？…\n]+")
_TOKEN = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff]|[^\W_]+")


def character_problems(
    text: str, *, persona_name: str, aliases: Sequence[str] = (), max_chars: int = 1200
) -> list[str]:
    """Problem codes for a reply that should come from ``persona_name``; empty means it may be used."""
    if not any(ch.isalnum() for ch in text):
        return ["empty"]
    problems: list[str] = []
    if len(text) > max_chars:
        problems.append(f"too_long: {len(text)} chars (max {max_chars})")
    allowed = _allowed_names(persona_name, aliases)
    for name in _self_names(unicodedata.normalize("NFKC", text)):
        if not _is_allowed(name, allowed):
            problems.append(f"wrong_name: {name}")
            break
    if _repetitive(text):
        problems.append("repetition")
    return problems


def _allowed_names(persona_name: str, aliases: Sequence[str]) -> tuple[set[str], tuple[str, ...]]:
    """(name words, full names), case-folded; full names keep no separators."""
    words: set[str] = set()
    full: list[str] = []
    for name in (persona_name, *aliases):
        folded = unicodedata.normalize("NFKC", name).casefold().strip()
        if not folded:
            continue
        words.update(w for w in re.split(r"[\s·・•\-_,.]+", folded) if w)
        full.append(re.sub(r"[\s·・•\-_,.]+", "", folded))
    return words, tuple(full)


def _is_allowed(name: str, allowed: tuple[set[str], tuple[str, ...]]) -> bool:
    words, full = allowed
    folded = name.casefold()
    parts = [p for p in re.split(r"[\s·・•\-_,.]+", folded) if p]
    if any(part in words for part in parts):
        return True
    joined = "".join(parts)
    known = [n for n in (*words, *full) if len(n) >= 2]
    return any(joined.startswith(n) for n in known) or any(n.startswith(joined) for n in full)


def _self_names(text: str) -> list[str]:
    names: list[str] = []
    for match in _CASED.finditer(text):
        name = _cased_name(text[match.end() :])
        if name:
            names.append(name)
    for pattern in (_CJK_STRONG, _ZH_WEAK, _JA_WEAK):
        for match in pattern.finditer(text):
            name = _CJK_STOP.split(text[match.end() : match.end() + 16], maxsplit=1)[0][:10]
            if pattern is _ZH_WEAK and not _transliterated(name):
                continue
            if pattern is _JA_WEAK and not _KATAKANA_FULL_NAME.match(name):
                continue
            if name:
                names.append(name)
    names.extend(m.group(1) for m in _JA_NAMED.finditer(text))
    names.extend(m.group(1).strip() for m in _HINDI.finditer(text) if m.group(1).strip())
    return names


def _transliterated(name: str) -> bool:
    """A Chinese rendering of a foreign name: 格林博尔德, or anything with a name dot (格林·铁拳)."""
    first = re.split(r"[·・]", name, maxsplit=1)[0]
    return len(name) >= 2 and (first != name or all(ch in _TRANSLIT for ch in name))


def _cased_name(rest: str) -> str:
    """The capitalised words at the start of ``rest`` that look like a name ('' if none)."""
    parts: list[str] = []
    position = 0
    while len(parts) < 4:
        match = _NAME_WORD.match(rest, position)
        if match is None:
            break
        word = match.group()
        lowered = word.casefold()
        if lowered in _HONORIFICS and not parts:
            position = _skip_space(rest, match.end())
            continue
        if not word[0].isupper() or word.isupper() or lowered in _NOT_NAMES:
            break
        if lowered.endswith(("'s", "’s")):
            return ""  # "I'm Grimbold's apprentice": about someone else
        parts.append(word)
        end = match.end()
        position = _skip_space(rest, end)
        if position == end:  # punctuation ends the name
            break
    return " ".join(parts)


def _skip_space(text: str, position: int) -> int:
    while position < len(text) and text[position] == " ":
        position += 1
    return position


def _repetitive(text: str) -> bool:
    sentences = Counter(
        " ".join(_TOKEN.findall(s.casefold())) for s in _SENTENCE_END.split(text) if s.strip()
    )
    if any(count >= 3 and len(s.split()) >= 3 for s, count in sentences.items()):
        return True
    if any(count >= 2 and len(s.split()) >= 5 for s, count in sentences.items()):
        return True  # a whole sentence of five or more words said twice: a small model looping
    words = _TOKEN.findall(text.casefold())
    n = 4
    if len(words) < 24:
        return False
    grams = Counter(tuple(words[i : i + n]) for i in range(len(words) - n + 1))
    covered: set[int] = set()
    for i in range(len(words) - n + 1):
        if grams[tuple(words[i : i + n])] > 1:
            covered.update(range(i, i + n))
    return len(covered) / len(words) > 0.4
