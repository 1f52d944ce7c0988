"""How the support conversation is going, read off the player's words.

Two signals, without a model:

* :func:`assess_sentiment` (and its number, :func:`negative_sentiment`): how frustrated
  or hostile one message is, 0..1. Cues and weights are in :data:`CUE_WEIGHTS`; insults
  and threats come from :func:`~npc_engine.affect.appraisal.appraise`, the rest
  (frustration, profanity, shouting, ``!!!``) from this module. Cues combine as a
  noisy-or, ``1 - Π(1 - weight)``, so one strong cue reaches
  :data:`NEGATIVE_SENTIMENT_THRESHOLD` (0.5) and two weak ones do not. Shouting and
  ``!!!`` carry no valence of their own: they are dropped when the message praises or
  apologises ("THANK YOU!!!"). Only the first and last :data:`SENTIMENT_WINDOW`
  characters are read, so a 1 MB message costs what a 4 KB one does.
* :func:`count_failed_answers`: how many agent turns in a row failed the player. A turn
  failed when it did not answer, or when the player's next message says it did not help
  (:func:`says_not_resolved`: "that didn't help", "still not working", "no funciona",
  "还是不行"). A helpful answer or an escalation ends the run; :func:`repeated_failure`
  compares the run with the persona's ``max_failed_answers``.

Matching (shared with :mod:`npc_engine.support.triggers` through :func:`normalise_text`
and :func:`compile_terms`): text is NFKC-normalised; invisible format characters and
terminal escape codes are removed and control characters become spaces; case is folded,
accents on Latin letters dropped (as are the Devanagari nukta and chandrabindu); ``n't``
reads as `` not`` (``can't`` as ``cannot``); clause punctuation becomes a ``|`` token
and other punctuation a space. Terms in Chinese, Japanese, Korean, Thai and Devanagari
then match as substrings (spaces inside are ignored); other terms match whole words, a
trailing ``*`` allowing any ending. A match is negated when one of the three words
before it in its clause is a negator ("not", "nunca", "pas", "nicht", "не", ...; "no"
within two words before it, or in "no need"), one of the three characters before it is
不/没/别/..., or the clause goes on with a Hindi, Japanese or Korean negation (नहीं,
たくない, 필요없). Every check looks at a bounded window, so matching is linear in the
length of the text.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from functools import cache

from npc_engine.affect.appraisal import appraise
from npc_engine.errors import InvalidInputError

__all__ = [
    "CUE_WEIGHTS",
    "NEGATIVE_SENTIMENT_THRESHOLD",
    "SENTIMENT_WINDOW",
    "SEVERE_SENTIMENT",
    "PastExchange",
    "SentimentSignal",
    "assess_sentiment",
    "count_failed_answers",
    "negative_sentiment",
    "repeated_failure",
    "says_not_resolved",
]

NEGATIVE_SENTIMENT_THRESHOLD = 0.5
"""At or above this, a message counts as negative (one strong cue, or a weak cue plus two)."""
SEVERE_SENTIMENT = 0.8
"""At or above this (a threat, or an insult with frustration), an escalation is high priority."""
SENTIMENT_WINDOW = 2000
"""Sentiment reads this many characters from each end of a longer message."""

CUE_WEIGHTS: dict[str, float] = {
    "threat": 0.8,  # appraise(): "I'll find you", "你等着"
    "insult": 0.6,  # appraise(): "useless", "idiot", "垃圾", "estúpido"
    "frustration": 0.6,  # "scam", "worst", "furious", "es una estafa", "气死了"
    "profanity": 0.4,  # "wtf", "mierda", "merde", "scheiße", "他妈的"
    "shouting": 0.3,  # mostly capitals, at least 8 of them
    "exclamations": 0.2,  # "!!!", "?!?!"
}

# Clause punctuation becomes a "|" token; negation and multi-word terms never cross it.
_CLAUSE = re.compile(
    r"[.,;:!?¡¿()\[\]{}|\n\r\u2026\u3001\u3002\uff01\uff0c\uff1a\uff1b\uff1f\uff08\uff09\u0964\u0965]+"
)
_ANSI = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]")  # terminal colour codes and the like
_INVISIBLE = re.compile(r"[\u00ad\u180e\u200b-\u200f\u202a-\u202e\u2060-\u2064\ufeff]")
_CONTROL = re.compile(r"[\x00-\x09\x0b-\x1f\x7f-\x9f\u2028\u2029]")
_LATIN_ACCENTS = re.compile(r"(?<=[a-z])[\u0300-\u036f]+")
_RUN_CHARS = (
    r"\u0900-\u097f\u0e00-\u0e7f\u1100-\u11ff\u3040-\u30ff\u3130-\u318f\u3400-\u4dbf\u4e00-\u9fff"
    r"\uac00-\ud7af\uf900-\ufaff"
)  # Devanagari, Thai, Hangul, kana, CJK: matched as substrings
_RUN = re.compile(f"[{_RUN_CHARS}]+")
_RUN_CHAR = re.compile(f"[{_RUN_CHARS}]")
_PUNCTUATION = re.compile(rf"[^\w\s|{_RUN_CHARS}]|_")

_NEGATORS = frozenset(
    {"not", "never", "nunca", "jamas", "nao", "non", "nicht", "kein", "keine", "keinen", "keinem", "keiner"}
    | {"ne", "pas", "jamais", "mai", "nahi", "nahin", "nhi", "without", "sin", "sem", "sans", "ohne", "senza"}
    | {"не", "нет", "без"}
)
_POST_NEGATORS = frozenset({"nahi", "nahin", "nhi"})  # romanised Hindi puts "not" after the verb
_CJK_NEGATORS = frozenset("不没沒别別非未莫勿")
_RUN_POST_NEGATORS = (
    *("नहीं", "नही", "मत", "たくない", "たくありません", "いらない", "いりません", "不要", "必要ない"),
    *("必要ありません", "結構です", "필요없", "싫", "말고", "안해", "안할"),
)
_WINDOW = 60  # characters either side of a match that negation looks at


def require_text(text: object) -> str:
    """``text`` if it is a string, else :class:`InvalidInputError` (a clear error, not a crash)."""
    if not isinstance(text, str):
        raise InvalidInputError(f"the player's message must be a string, got {type(text).__name__}")
    return text


def normalise_text(text: str) -> str:
    """``text`` as the support matchers read it: words separated by single spaces, clauses by ``|``."""
    text = unicodedata.normalize("NFKC", text)
    text = _CONTROL.sub(" ", _INVISIBLE.sub("", _ANSI.sub("", text))).casefold()
    text = text.replace("\u2019", "'").replace("\u02bc", "'").replace("\u2018", "'")
    text = re.sub(r"\bcan't\b", "cannot", text)
    text = re.sub(r"n't\b", " not", text)
    text = _LATIN_ACCENTS.sub("", unicodedata.normalize("NFD", text))
    text = unicodedata.normalize("NFC", text).replace("\u093c", "").replace("\u0901", "\u0902")
    text = _RUN.sub(r" \g<0> ", _CLAUSE.sub(" | ", text))  # so "我要refund" has a word boundary
    return " ".join(_PUNCTUATION.sub(" ", text).split())


def _term_pattern(term: str, *, inflect: bool) -> tuple[bool, str]:
    """(whether it is a substring term, its regex) for one lexicon entry."""
    core = normalise_text(term.strip().rstrip("*"))
    if _RUN_CHAR.search(core):
        return True, " ?".join(re.escape(ch) for ch in core.replace(" ", "") if ch != "|")
    words = [w for w in core.split() if w != "|"]
    pieces = [_inflected(w) if inflect and len(w) >= 4 else re.escape(w) for w in words]
    return False, " ".join(pieces) + (r"\w*" if term.strip().endswith("*") else "")


def _inflected(word: str) -> str:
    """``word`` with simple plural and tense endings tolerated: refund(s|ed|ing), banned → bann(ing)."""
    for ending in ("ing", "ed", "es", "e", "s"):
        if word.endswith(ending) and len(word) - len(ending) >= 4:
            word = word[: -len(ending)]
            break
    return re.escape(word) + "(?:e|s|es|ed|d|ing|er|ers)?"


def compile_terms(terms: Iterable[str], *, inflect: bool = False) -> re.Pattern[str] | None:
    """One regex for a list of terms, over :func:`normalise_text` output; ``None`` when empty.

    ``inflect``: Latin-script words of four letters or more also match simple plural and
    tense forms (:func:`_inflected`).
    """
    words: list[str] = []
    runs: list[str] = []
    for term in terms:
        if term.strip().rstrip("*").strip():
            is_run, pattern = _term_pattern(term, inflect=inflect)
            if pattern:
                (runs if is_run else words).append(pattern)
    alternatives = []
    if words:
        alternatives.append(r"(?<!\w)(?:" + "|".join(sorted(set(words), key=len, reverse=True)) + r")(?!\w)")
    if runs:
        alternatives.append("(?:" + "|".join(sorted(set(runs), key=len, reverse=True)) + ")")
    return re.compile("|".join(alternatives)) if alternatives else None


def clause_context(text: str, start: int, end: int) -> tuple[str, str]:
    """The clause's text just before and just after ``text[start:end]`` (bounded windows)."""
    before = text[max(0, start - _WINDOW) : start].rsplit("|", 1)[-1]
    after = text[end : end + _WINDOW].split("|", 1)[0]
    return before, after


def negated(text: str, start: int, end: int) -> bool:
    """Whether the match ``text[start:end]`` of normalised text is negated in its clause."""
    before, after = clause_context(text, start, end)
    if _RUN_CHAR.match(text, start):
        pre, post = before.replace(" ", "")[-3:], after.replace(" ", "")[:10]
        return any(ch in _CJK_NEGATORS for ch in pre) or any(n in post for n in _RUN_POST_NEGATORS)
    words = before.split()[-3:]
    if any(w in _NEGATORS for w in words) or "no" in words[-2:]:
        return True
    if "no" in words and words[words.index("no") + 1 :][:1] == ["need"]:  # "no need to talk to ..."
        return True
    return any(w in _POST_NEGATORS for w in after.split()[:2])


def unnegated_matches(pattern: re.Pattern[str] | None, text: str) -> Iterator[re.Match[str]]:
    """The matches of ``pattern`` in normalised ``text`` that are not negated, in order."""
    if pattern is not None:
        for match in pattern.finditer(text):
            if not negated(text, match.start(), match.end()):
                yield match


_LEXICONS: dict[str, str] = {
    # Insults ("useless", "垃圾") come from appraise(); these add frustration with the game or service.
    "frustration": """
    ridiculous, worst, scam*, angry, furious, livid, pissed, fed up, sick of, sick and tired, unacceptable,
    disgrace*, disgusting, rip off, ripoff, ripped off, waste of money, waste of time, hate this, hate your,
    terrible, awful, horrible, frustrat*, infuriating, outrageous, what a joke, this is a joke,
    estafa*, ridicul*, el peor, la peor, lo peor, furios*, enfadad*, enojad*, indignante,
    inaceptable, verguenza, estoy harto, estoy harta, que asco, no sirve para nada, no sirve de nada, pesimo, pesima, timo,
    absurdo, absurda, o pior, a pior, palhacada, raiva, irritad*, inaceitavel, fraude, enganacao, lixo,
    horrivel, arnaque*, escroc*, le pire, la pire, furieux, furieuse, en colere, enerve*, inadmissible,
    inacceptable, honteux, honteuse, scandal*, degoutant, ras le bol, marre, lamentable, n importe quoi,
    betrug*, betruger*, abzocke*, abgezockt, lacherlich, wutend, stinksauer, unverschamt*, frechheit,
    zumutung, katastroph*, schlechteste*, es reicht, nase voll, ein witz, truffa*, truffat*, vergogna,
    vergognoso, schifo, arrabbiat*, incazzat*, inaccettabile, il peggiore, la peggiore,
    разводилово, развели, разводят, мошенник*, обман*, ужас*, отстой*, бесит, бесят, достали, достало, надоело, кошмар*, позор*,
    худш*, отвратительн*, в бешенстве,
    太差了, 太差劲, 气死了, 氣死了, 气死我了, 氣死我了, 坑钱, 坑錢, 坑人, 坑爹, 骗钱, 騙錢, 骗局, 騙局, 诈骗, 詐騙,
    烂游戏, 爛遊戲, 破游戏, 破遊戲, 最差, 恶心, 噁心, 无语, 無語, 受够了, 受夠了, 太烂, 太爛, 很生气,
    很生氣, 愤怒, 憤怒, 不要脸, 不要臉, 忍无可忍, 離譜, 离谱,
    最悪, ふざけるな, ふざけんな, ひどすぎ, 酷すぎ, 腹立つ, 腹が立つ, ムカつく, むかつく, 詐欺,
    いい加減にし, ありえない, 金返せ, 최악, 짜증, 화나, 화가 나, 사기꾼, 사기 치, 사기 게임, 장난하, 어이없, 빡치, 빡쳐, 열받,
    बकवास, घटिया, धोखा, धोखेबाज़, ठगी, गुस्सा, सबसे बुरा, बहुत बुरा, बेहूदा, शर्मनाक, तंग आ गया,
    तंग आ गई, bakwas, bakwaas, ghatiya, dhokha, dhokebaaz, thagi, gussa, faltu
    """,
    "profanity": """
    fuck*, wtf, shit*, bullshit, crap, crappy, goddamn*, what the hell, bloody hell, stfu, ffs,
    mierda, joder, jodido, jodida, carajo, puta*, puto, hostia, chingad*, verga, me cago, merda,
    porra, caralho, foda*, cacete, merde, putain, bordel, connard*, connasse, fait chier, ta gueule,
    scheiss*, verdammt*, kacke, arschloch, fick*, verfickt*, cazzo, vaffanculo, fanculo, porca miseria,
    stronz*, minchia, блин, блять, бля, сука, хрен*, черт, чёрт, пизд*, нахуй, нахер, хуй*, ебан*, дерьм*,
    他妈, 他媽, tmd, 操你, 草泥马, 尼玛, 卧槽, 我靠, 狗屎, クソ, くそ, 死ね, 씨발, 시발, ㅅㅂ, 개새끼, 병신,
    존나, 젠장, साला, साले, हरामी, चूतिया, chutiya, chutiye, madarchod, bhenchod, behenchod, harami, saala
    """,
    # The player says the last answer did not help (no negation check: these are negative already).
    "not_resolved": """
    didn't help, doesn't help, not helpful, not helping, didn't work, doesn't work, still not working,
    still broken, still not fixed, still the same, same problem, same issue, same error, not what i asked,
    not what i meant, you already said that, you said that already, didn't answer, wrong answer,
    still can't, still cannot, nothing changed, already tried, tried that, i did that already,
    no funciona, sigue sin funcionar, sigue igual, sigue fallando, no sirvio, no me sirvio, no ayuda,
    no me ayudo, el mismo problema, ya lo intente, ya lo hice, no es lo que pregunte, no se soluciono,
    no lo resolvio, nao funciona, nao funcionou, continua sem funcionar, continua igual, nao ajudou,
    nao resolveu, mesmo problema, ja tentei, ja fiz isso, ne marche pas, ne marche toujours pas,
    ne fonctionne pas, ne fonctionne toujours pas, n a pas aide, toujours pas, meme probleme,
    deja essaye, pas resolu, funktioniert nicht, funktioniert immer noch nicht, geht immer noch nicht,
    hat nicht geholfen, hilft nicht, immer noch kaputt, gleiche problem, gleiches problem,
    schon versucht, non funziona, non ha funzionato, non mi ha aiutato, non aiuta, stesso problema,
    gia provato, не работает, не помогло, не помогает, та же проблема, то же самое, уже пробовал,
    уже пробовала, не решено,
    还是不行, 還是不行, 没用, 沒用, 没有用, 沒有用, 不管用, 没解决, 沒解決, 没有解决, 沒有解決, 还是一样,
    還是一樣, 还是没, 還是沒, 试过了, 試過了, 没帮助, 沒幫助, 答非所问, 答非所問, 还是有问题, 還是有問題,
    まだ直らない, 直らない, 解決しない, 解決してない, 役に立たない, 変わらない, 同じ問題, ダメでした,
    だめでした, 여전히 안 돼, 아직도 안 돼, 해결 안, 도움이 안, 소용없, 똑같아, 같은 문제, 해봤어,
    काम नहीं कर, काम नहीं किया, मदद नहीं मिली, कोई फायदा नहीं, वही समस्या, kaam nahi kar, kaam nahi kiya,
    koi fayda nahi, wahi problem
    """,
}


@cache
def _lexicon(name: str) -> re.Pattern[str] | None:
    return compile_terms(term for term in _LEXICONS[name].split(","))


@dataclass(frozen=True, slots=True)
class SentimentSignal:
    """How negative a message is (0..1) and the cues that said so, in :data:`CUE_WEIGHTS` order."""

    score: float
    cues: tuple[str, ...] = ()

    @property
    def negative(self) -> bool:
        """Whether the score reaches :data:`NEGATIVE_SENTIMENT_THRESHOLD`."""
        return self.score >= NEGATIVE_SENTIMENT_THRESHOLD


def _sample(text: str) -> str:
    if len(text) <= 2 * SENTIMENT_WINDOW:
        return text
    return text[:SENTIMENT_WINDOW] + "\n" + text[-SENTIMENT_WINDOW:]


def _shouting(text: str) -> bool:
    upper = sum(1 for ch in text if ch.isupper())
    lower = sum(1 for ch in text if ch.islower())
    return upper >= 8 and upper >= 0.7 * (upper + lower)


def assess_sentiment(text: str, *, locale: str | None = None) -> SentimentSignal:
    """The frustration in one player message; ``locale`` narrows appraise()'s lexicons."""
    sample = _sample(require_text(text))
    appraisal = appraise(sample, locale=locale)
    normalised = normalise_text(sample)
    found: set[str] = {cue for cue in ("threat", "insult") if cue in appraisal.matched}
    for cue in ("frustration", "profanity"):
        if next(unnegated_matches(_lexicon(cue), normalised), None) is not None:
            found.add(cue)
    if not {"praise", "apology"} & set(appraisal.matched):
        if _shouting(sample):
            found.add("shouting")
        if re.search(r"[!！]{3,}|(?:[!！][?？]|[?？][!！]){2,}", sample):
            found.add("exclamations")
    cues = tuple(cue for cue in CUE_WEIGHTS if cue in found)
    calm = 1.0
    for cue in cues:
        calm *= 1.0 - CUE_WEIGHTS[cue]
    return SentimentSignal(round(1.0 - calm, 4), cues)


def negative_sentiment(text: str, *, locale: str | None = None) -> float:
    """How negative ``text`` is, 0..1 (see :func:`assess_sentiment`)."""
    return assess_sentiment(text, locale=locale).score


def says_not_resolved(text: str) -> bool:
    """Whether the player says the last answer did not help ("still not working", "还是不行")."""
    pattern = _lexicon("not_resolved")
    return pattern is not None and pattern.search(normalise_text(require_text(text))) is not None


@dataclass(frozen=True, slots=True)
class PastExchange:
    """An earlier exchange of the conversation: the player's message and what the agent did."""

    player_message: str
    answered: bool  # False: the agent could not answer (asked to rephrase, said it did not know)
    escalated: bool = False  # the agent handed the conversation to a person


def count_failed_answers(history: Sequence[PastExchange], text: str) -> int:
    """How many agent turns in a row, up to now, failed the player (``history`` oldest first).

    A turn failed when it did not answer, or when the player's next message (the next
    exchange's, or ``text`` after the latest) :func:`says_not_resolved`.
    """
    follow_ups = [exchange.player_message for exchange in history[1:]] + [require_text(text)]
    failures = 0
    for exchange, follow_up in zip(history, follow_ups[: len(history)], strict=True):
        if exchange.escalated:
            failures = 0
        elif not exchange.answered or says_not_resolved(follow_up):
            failures += 1
        else:
            failures = 0
    return failures


def repeated_failure(history: Sequence[PastExchange], text: str, max_failed: int) -> bool:
    """Whether :func:`count_failed_answers` has reached ``max_failed`` (0 or less: never)."""
    return max_failed > 0 and count_failed_answers(history, text) >= max_failed
