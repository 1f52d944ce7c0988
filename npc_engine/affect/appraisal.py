"""A fast lexicon appraisal of the player's message, in English, Spanish, Chinese and Hindi.

No model is called: each language has a small hand-written lexicon per category
(:data:`CATEGORIES`), and every category that matches adds its fixed deltas
(:data:`CATEGORY_DELTAS`) once, however many of its words appear. Deltas of all matched
categories are summed in :data:`CATEGORIES` order and clamped to -1..1, so the result is
deterministic; :func:`appraise` returns them as a
:class:`~npc_engine.affect.events.MessageAppraisal` at ``at=0.0`` (the caller sets the
time with ``dataclasses.replace``) with ``matched`` saying which categories fired.

Matching. Text is NFC-normalised and case-folded; Latin accents are dropped (``estupido``
matches ``estúpido``), as are the Devanagari nukta and chandrabindu (``तोहफ़ा`` and
``तोहफा`` are one word), and ``n't`` reads as `` not``. Lexicon entries in Latin script
(English, Spanish, romanised Hindi) match whole words (a trailing ``*`` allows any word
ending: ``thank*``); Chinese and Devanagari entries match as substrings.

Negation, kept simple: a match is dropped when, in the same clause, one of the three
words before it is a negator (``not``, ``no``, ``never``, ``nunca``, ``nahi``, ...), for
Chinese when one of the three characters before it is (不, 没, 别, ...), for Hindi when
one of the two words before or after it is (नहीं, मत, न). So "you are no fool" and "no
eres un idiota" are not insults, while "not bad" / "no está mal" / "不错" / "बुरा नहीं"
are praise entries in their own right.

``locale`` (``"es"``, ``"zh-CN"``, ``"hi_IN"``, ...) narrows matching to that language plus
English (players mix English in); ``None`` or a language without a lexicon uses all.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import cache

from npc_engine.affect.events import MessageAppraisal

__all__ = ["CATEGORIES", "CATEGORY_DELTAS", "LANGUAGES", "appraise"]

CATEGORIES = ("insult", "praise", "threat", "gift", "apology", "help_request")

CATEGORY_DELTAS: dict[str, tuple[dict[str, float], dict[str, float]]] = {
    # (emotion deltas, relationship deltas); about half a typical persona reaction, because
    # words are cheaper than deeds: a gift *offered* cheers, only a gift *received* builds trust.
    "insult": ({"anger": 0.3}, {"trust": -0.1, "respect": -0.1}),
    "praise": ({"joy": 0.2}, {"trust": 0.05}),
    "threat": ({"fear": 0.3, "anger": 0.2}, {"trust": -0.2}),
    "gift": ({"joy": 0.15, "anticipation": 0.1}, {}),
    "apology": ({"anger": -0.15}, {"trust": 0.05}),
    "help_request": ({"anticipation": 0.1}, {"familiarity": 0.02}),
}

_LEXICONS: dict[str, dict[str, str]] = {
    "en": {
        "insult": "idiot*, fool, fools, foolish, stupid*, moron*, imbecile*, dumb, dimwit*, halfwit*, oaf, "
        "bastard*, coward*, worthless, pathetic, useless, scum, trash, loser*, liar*, wretch*, ugly, "
        "shut up, hate you, damn you, curse you",
        "praise": "thank*, well done, good job, good work, great job, great work, fine work, nice work, "
        "amazing, wonderful, excellent, impressive, brilliant, magnificent, superb, marvel*, masterful, "
        "masterpiece, you're the best, you are the best, appreciate*, admire*, grateful, not bad, "
        "so kind, how kind, kind of you, well made",
        "threat": "kill you, i'll kill, i will kill, gonna kill, going to kill, murder you, hurt you, "
        "cut your throat, gut you, burn your, burn down, burn it down, destroy you, end you, break your, "
        "or else, you'll regret, you will regret, you'll pay for, you will pay for, watch your back, "
        "you're dead, you are dead, you'll die, you will die, threat*",
        "gift": "gift*, a present, this present, take this, i brought you, i got you, something for you, "
        "token of, accept this",
        "apology": "sorry, apolog*, forgive me, i was wrong, my mistake, my bad, my fault",
        "help_request": "help me, help us, can you help, could you help, would you help, need help, "
        "need your help, please help, assist me, lend me a hand, lend a hand, a favor, a favour",
    },
    "es": {
        "insult": "idiota*, estúpid*, imbécil*, tonto, tonta, tontos, tontas, necio, necia, cobarde*, "
        "inútil*, basura, mentiros*, cállate, bastard*, cabrón, cabrona, pendej*, gilipollas, maldito, "
        "maldita, patétic*, asqueros*, te odio",
        "praise": "gracias, te lo agradezco, agradezco, agradecid*, buen trabajo, bien hecho, excelente, "
        "increíble, maravillos*, genial, impresionante, eres el mejor, eres la mejor, te admiro, "
        "admirable, no está mal, magnífic*, estupend*, qué amable, muy amable, obra maestra",
        "threat": "te mataré, te voy a matar, voy a matarte, matarte, te arrepentirás, lo pagarás, "
        "me las pagarás, quemaré, te destruiré, o si no, cuídate las espaldas, amenaz*, vas a morir, "
        "te haré daño, te cortaré, estás muerto, estás muerta",
        "gift": "regalo*, obsequio*, te traje, te he traído, toma esto, es para ti",
        "apology": "lo siento, perdón, perdóname, perdona, disculpa*, discúlpame, me equivoqué, "
        "fue mi culpa, lo lamento",
        "help_request": "ayúdame, ayúdanos, puedes ayudarme, podrías ayudarme, necesito ayuda, "
        "necesito tu ayuda, me ayudas, socorro, un favor, échame una mano",
    },
    "zh": {
        "insult": "笨蛋, 白痴, 白癡, 傻瓜, 傻子, 蠢, 废物, 廢物, 混蛋, 王八蛋, 垃圾, 滚开, 滾開, 滚蛋, 滾蛋, "
        "骗子, 騙子, 胆小鬼, 膽小鬼, 闭嘴, 閉嘴, 真没用, 真沒用, 没用的东西, 沒用的東西, 无能, 無能",
        "praise": "谢谢, 謝謝, 多谢, 多謝, 感谢, 感謝, 感激, 太棒了, 真棒, 很棒, 厉害, 厲害, 了不起, 干得好, "
        "幹得好, 做得好, 佩服, 优秀, 優秀, 出色, 不错, 不錯, 精彩, 好手艺, 好手藝",
        "threat": "杀了你, 殺了你, 我要杀, 我要殺, 宰了你, 弄死你, 打死你, 你会后悔, 你會後悔, 你等着, 你等著, "
        "饶不了你, 饒不了你, 威胁, 威脅, 让你好看, 讓你好看, 去死, 烧了你, 燒了你",
        "gift": "礼物, 禮物, 礼品, 禮品, 送给你, 送給你, 送你一, 给你带了, 給你帶了, 一点心意, 一點心意, 收下, "
        "薄礼, 薄禮",
        "apology": "对不起, 對不起, 抱歉, 道歉, 不好意思, 原谅我, 原諒我, 是我的错, 是我的錯, 我错了, 我錯了",
        "help_request": "帮帮我, 幫幫我, 帮我, 幫我, 请帮, 請幫, 帮忙, 幫忙, 需要帮助, 需要幫助, 求你, 救命, "
        "能帮, 能幫, 协助, 協助",
    },
    "hi": {
        "insult": "बेवकूफ़, मूर्ख, पागल, गधा, गधे, कमीना, कमीने, कमीनी, बदतमीज़, नालायक, झूठा, झूठे, डरपोक, "
        "निकम्मा, निकम्मे, बेकार, बेशर्म, उल्लू, चुप रहो, चुप कर, bewakoof, bewakuf, bevkoof, murkh, "
        "pagal, gadha, gadhe, kamina, kamine, nalayak, nikamma, ullu, besharam, chup kar, chup raho",
        "praise": "धन्यवाद, शुक्रिया, बहुत अच्छा, बढ़िया, शाबाश, कमाल, शानदार, बहुत खूब, अद्भुत, बुरा नहीं, "
        "तारीफ़, आभार, मेहरबानी, dhanyavaad, dhanyavad, dhanyawad, shukriya, shabash, shabaash, badhiya, "
        "bahut accha, bahut achha, kamaal, shandaar, shandar, bura nahi",
        "threat": "मार डाल, मार दूं, जान से मार, पछताओगे, पछताना पड़ेगा, धमकी, देख लूंगा, बर्बाद कर दूं, "
        "ख़त्म कर दूं, आग लगा दूं, maar dalunga, maar daalunga, maar dunga, mar dunga, jaan se maar, "
        "pachtaoge, dekh lunga, dhamki",
        "gift": "तोहफ़, उपहार, भेंट, आपके लिए लाया, तुम्हारे लिए लाया, यह लो, ये लो, रख लीजिए, tohfa, tohfe, "
        "uphaar, upahar, yeh lo, aapke liye, tumhare liye",
        "apology": "माफ़, क्षमा, सॉरी, मेरी गलती, गलती हो गई, गलती हो गयी, maaf, maafi, mafi, kshama, meri galti",
        "help_request": "मदद, सहायता, बचाओ, madad, bachao",
    },
}

LANGUAGES = tuple(_LEXICONS)
"""Languages with a lexicon."""

_LATIN_NEGATORS = frozenset({"not", "no", "never", "nor", "neither", "nunca", "jamas", "ni", "tampoco"})
_LATIN_NEGATORS |= {"nahi", "nahin", "mat"}  # romanised Hindi, before the word
_LATIN_POST_NEGATORS = frozenset({"nahi", "nahin"})  # romanised Hindi, after the word
_CJK_NEGATORS = frozenset("不没沒别別非未莫勿")
_HINDI_NEGATORS = frozenset({"नहीं", "नही", "मत", "न", "ना"})
_CLAUSE_BREAK = re.compile(r"[.,;:!?¡¿()\[\]\"\n|।॥，。！？；：、]")
_WORD = re.compile(r"\w+")
_LATIN_ENTRY = re.compile(r"[\x00-\u024f]+")


def _normalize(text: str) -> str:
    """NFC, case-folded, Latin accents / nukta / chandrabindu dropped, ``n't`` → `` not``."""
    text = unicodedata.normalize("NFD", text.casefold())
    text = "".join(ch for ch in text if not "\u0300" <= ch <= "\u036f" and ch != "\u093c")
    text = unicodedata.normalize("NFC", text).replace("\u0901", "\u0902")
    return text.replace("\u2019", "'").replace("n't", " not")


@dataclass(frozen=True, slots=True)
class _Matcher:
    latin: re.Pattern[str] | None
    substrings: tuple[str, ...]


@cache
def _matcher(lang: str, category: str) -> _Matcher:
    entries = [_normalize(e.strip()) for e in _LEXICONS[lang][category].split(",") if e.strip()]
    latin = [e for e in entries if _LATIN_ENTRY.fullmatch(e)]
    others = tuple(e for e in entries if not _LATIN_ENTRY.fullmatch(e))
    alternatives = []
    for entry in sorted(latin, key=len, reverse=True):
        stem, wildcard = (entry[:-1], r"\w*") if entry.endswith("*") else (entry, "")
        alternatives.append(r"\s+".join(re.escape(word) for word in stem.split()) + wildcard)
    pattern = re.compile(r"(?<!\w)(?:" + "|".join(alternatives) + r")(?!\w)") if alternatives else None
    return _Matcher(pattern, others)


def _clause_before(text: str, start: int) -> str:
    return _CLAUSE_BREAK.split(text[:start])[-1]


def _clause_after(text: str, end: int) -> str:
    return _CLAUSE_BREAK.split(text[end:])[0]


def _latin_negated(text: str, start: int, end: int) -> bool:
    before = _WORD.findall(_clause_before(text, start))[-3:]
    after = _WORD.findall(_clause_after(text, end))[:2]
    return any(w in _LATIN_NEGATORS for w in before) or any(w in _LATIN_POST_NEGATORS for w in after)


def _substring_negated(text: str, start: int, end: int) -> bool:
    if "\u0900" <= text[start] <= "\u097f":  # Devanagari: whole words either side
        before = _clause_before(text, start).split()[-2:]
        after = _clause_after(text, end).split()[:2]
        return any(w in _HINDI_NEGATORS for w in (*before, *after))
    window = "".join(_clause_before(text, start).split())[-3:]
    return any(ch in _CJK_NEGATORS for ch in window)


def _matches(text: str, matcher: _Matcher) -> bool:
    """Whether ``matcher`` finds at least one match in ``text`` that is not negated."""
    if matcher.latin is not None:
        for m in matcher.latin.finditer(text):
            if not _latin_negated(text, m.start(), m.end()):
                return True
    for entry in matcher.substrings:
        start = text.find(entry)
        while start != -1:
            if not _substring_negated(text, start, start + len(entry)):
                return True
            start = text.find(entry, start + 1)
    return False


def _languages(locale: str | None) -> tuple[str, ...]:
    if locale:
        lang = re.split(r"[-_]", locale.strip().lower(), maxsplit=1)[0]
        if lang in _LEXICONS:
            return (lang,) if lang == "en" else ("en", lang)
    return LANGUAGES


def appraise(text: str, *, locale: str | None = None) -> MessageAppraisal:
    """Appraise a player's message: the categories it matches and their summed, clamped deltas."""
    normalized = _normalize(text)
    langs = _languages(locale)
    matched = tuple(
        category
        for category in CATEGORIES
        if any(_matches(normalized, _matcher(lang, category)) for lang in langs)
    )
    emotion: dict[str, float] = {}
    relationship: dict[str, float] = {}
    for category in matched:
        emotion_deltas, relationship_deltas = CATEGORY_DELTAS[category]
        for name, delta in emotion_deltas.items():
            emotion[name] = emotion.get(name, 0.0) + delta
        for name, delta in relationship_deltas.items():
            relationship[name] = relationship.get(name, 0.0) + delta
    return MessageAppraisal(
        at=0.0,
        emotion={name: max(-1.0, min(1.0, value)) for name, value in emotion.items()},
        relationship={name: max(-1.0, min(1.0, value)) for name, value in relationship.items()},
        matched=matched,
    )
