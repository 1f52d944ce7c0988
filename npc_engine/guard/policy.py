"""Content policy per region and age rating: what a player may raise and an NPC may say.

A world's ``content_policy`` (and an NPC's, which adds rules or replaces the world's
rule of the same ``id``) lists :class:`~personas.schema.PolicyRule` s. For one turn,
:meth:`PolicyGuard.check` takes the player's region (ISO 3166-1 alpha-2) and age
rating, and returns the first rule that applies and matches, with its in-character
deflection already chosen for the turn's locale (falling back to ``en``).

Who a rule applies to:

* ``regions`` empty: everywhere. An unknown region (``None``) counts as every region:
  a region-scoped rule still applies (conservative). ``UK`` is read as ``GB``.
* ``below_age``: players whose age rating is below it. An unknown age rating is the
  policy's ``assume_age_rating`` (12 by default); a persona may lower the world's
  assumption, never raise it.
* ``applies_to``: ``input`` (the player's message), ``output`` (the NPC's reply), or both.

How terms match (the text and the terms are normalised alike: NFKC, invisible format
characters such as zero-width spaces removed, case folded, accents on Latin letters
dropped, whitespace collapsed):

* Terms in scripts written with spaces match as whole words: ``bet`` does not match
  "better", ``RMT`` not "farmtools". A trailing ``*`` matches any ending (``gambl*``).
  Words of a multi-word term may be separated by any spaces or punctuation.
* Terms in Chinese, Japanese, Korean or Thai match as substrings, ignoring spaces and
  punctuation in between ("赌 博" matches 赌博).

Obfuscation that is caught: letters spaced or dotted out ("g a m b l i n g",
"g.a.m.b.l.i.n.g"), leetspeak digits and symbols (4→a, 3→e, 1→i or l, 0→o, 5→s, @→a,
$→s), case and width tricks (full-width "ＧＡＭＢＬＥ"), accents ("gámble") and
zero-width characters inside a word. Not caught: look-alike letters from other
scripts (Cyrillic "а" for Latin "a"), doubled letters ("gaaamble"), misspellings,
words split by other words, paraphrase, and terms encoded (base64) or in languages
the rule does not list. Matching is by keyword, so "I would never gamble" matches too.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Literal

from npc_engine.errors import InvalidInputError
from npc_engine.locale import normalise_locale
from personas.schema import ContentPolicy, PolicyRule

__all__ = ["Direction", "PolicyGuard", "PolicyHit"]

Direction = Literal["input", "output"]

_SPACELESS_CLASS = (
    r"\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uac00-\ud7af\u1100-\u11ff\u0e00-\u0e7f"
)
_SPACELESS = re.compile(f"[{_SPACELESS_CLASS}]")
_MARKS = r"\u0300-\u036f\u0900-\u0dff"  # combining accents; Indic scripts' vowel signs
_LEFT = rf"(?<![^\W_])(?<![{_MARKS}])"
_RIGHT = rf"(?![^\W_])(?![{_MARKS}])"
_NON_WORD = re.compile(r"[\W_]+")
_SPACED_OUT = re.compile(r"(?<![^\W_])(?<!['’])(?:[^\W_][ .\-_*·•]){2,}[^\W_](?![^\W_])")
_SEPARATORS = re.compile(r"[ .\-_*·•]")
_LEET_I = str.maketrans({"4": "a", "@": "a", "3": "e", "1": "i", "0": "o", "5": "s", "$": "s"})
_LEET_L = str.maketrans({"4": "a", "@": "a", "3": "e", "1": "l", "0": "o", "5": "s", "$": "s"})
_REGION = re.compile(r"^[A-Za-z]{2}$")
_REGION_ALIASES = {"UK": "GB", "EL": "GR"}


@dataclass(frozen=True, slots=True)
class PolicyHit:
    """The rule a text broke, the term that matched it, and what the NPC says instead."""

    rule_id: str
    term: str
    deflection: str  # already chosen for the turn's locale (else "en")


@dataclass(frozen=True, slots=True)
class _Matcher:
    term: str
    pattern: re.Pattern[str] | None  # whole-word terms
    needle: str  # substring terms (spaceless scripts), when pattern is None


class PolicyGuard:
    """Checks one text against a world's content policy and, optionally, a persona's."""

    def __init__(self, world_policy: ContentPolicy, persona_policy: ContentPolicy | None = None) -> None:
        rules = list(world_policy.rules)
        assume = world_policy.assume_age_rating
        if persona_policy is not None:
            position = {rule.id: index for index, rule in enumerate(rules)}
            for rule in persona_policy.rules:
                if rule.id in position:
                    rules[position[rule.id]] = rule  # the persona's version, in the world rule's place
                else:
                    rules.append(rule)
            if "assume_age_rating" in persona_policy.model_fields_set:
                assume = min(assume, persona_policy.assume_age_rating)
        self.assume_age_rating = assume
        self._rules = tuple(rules)
        self._matchers = tuple(tuple(_compile(term) for term in rule.terms) for rule in rules)

    @property
    def rules(self) -> tuple[PolicyRule, ...]:
        """The effective rules, in the order they are tried."""
        return self._rules

    def check(
        self,
        text: str,
        *,
        direction: Direction,
        region: str | None,
        age_rating: int | None,
        locale: str = "en",
    ) -> PolicyHit | None:
        """The first rule that applies to this player and matches ``text``, or ``None``."""
        if direction not in ("input", "output"):
            raise InvalidInputError(f"direction must be 'input' or 'output', got {direction!r}")
        country = _region(region)
        if age_rating is not None and (isinstance(age_rating, bool) or age_rating < 0):
            raise InvalidInputError(
                f"age_rating must be a whole number of years (0 or more), got {age_rating!r}"
            )
        age = self.assume_age_rating if age_rating is None else age_rating
        variants: tuple[str, ...] | None = None
        spaceless = ""
        for rule, matchers in zip(self._rules, self._matchers, strict=True):
            if direction not in rule.applies_to:
                continue
            if rule.below_age is not None and age >= rule.below_age:
                continue
            if rule.regions and country is not None and country not in rule.regions:
                continue
            if variants is None:
                variants, spaceless = _variants(text)
            for matcher in matchers:
                if _matches(matcher, variants, spaceless):
                    return PolicyHit(rule.id, matcher.term, _deflection(rule, locale))
        return None


def _region(region: str | None) -> str | None:
    if region is None:
        return None
    if not isinstance(region, str) or not _REGION.match(region.strip()):
        raise InvalidInputError(
            f"region must be an ISO 3166-1 alpha-2 country code such as 'US' or 'CN', got {region!r}"
        )
    code = region.strip().upper()
    return _REGION_ALIASES.get(code, code)


def _normalise(text: str) -> str:
    text = unicodedata.normalize("NFKC", text)
    text = "".join(ch for ch in text if unicodedata.category(ch) != "Cf")
    decomposed = unicodedata.normalize("NFD", text.casefold())
    kept: list[str] = []
    for ch in decomposed:
        if unicodedata.combining(ch) and kept and kept[-1].isascii() and kept[-1].isalpha():
            continue  # an accent on a Latin letter
        kept.append(ch)
    text = unicodedata.normalize("NFC", "".join(kept))
    text = _SPACELESS.sub(lambda m: f" {m.group()} ", text)  # so "想gamble" has a word boundary
    return " ".join(text.split())


def _join_spaced(text: str, *, keep_first: bool) -> str:
    """Spaced-out letters joined: "g a m b l e" → "gamble"; ``keep_first`` for "a g a m b l e"."""

    def join(match: re.Match[str]) -> str:
        run = match.group()
        return run[:2] + _SEPARATORS.sub("", run[2:]) if keep_first else _SEPARATORS.sub("", run)

    return _SPACED_OUT.sub(join, text)


def _variants(text: str) -> tuple[tuple[str, ...], str]:
    base = _normalise(text)
    words = [base]
    for leet in (base.translate(_LEET_I), base.translate(_LEET_L)):
        words += [leet, _join_spaced(leet, keep_first=False), _join_spaced(leet, keep_first=True)]
    return tuple(dict.fromkeys(words)), _NON_WORD.sub("", base)


def _compile(term: str) -> _Matcher:
    stripped = term.strip()
    prefix = stripped.endswith("*")
    core = _normalise(stripped.rstrip("*"))
    if _SPACELESS.search(core):
        return _Matcher(term, None, _NON_WORD.sub("", core))
    words = [re.escape(word) for word in core.split()]
    pattern = _LEFT + r"[\W_]+".join(words) + ("" if prefix else _RIGHT)
    return _Matcher(term, re.compile(pattern), "")


def _matches(matcher: _Matcher, variants: tuple[str, ...], spaceless: str) -> bool:
    if matcher.pattern is None:
        return bool(matcher.needle) and matcher.needle in spaceless
    return any(matcher.pattern.search(variant) for variant in variants)


def _deflection(rule: PolicyRule, locale: str) -> str:
    by_tag = {tag.replace("_", "-").lower(): text for tag, text in rule.deflection.items()}
    tag = locale.strip().replace("_", "-").lower()
    if tag in by_tag:
        return by_tag[tag]
    try:
        language = normalise_locale(locale)
    except InvalidInputError:
        return rule.deflection["en"]
    if language in by_tag:
        return by_tag[language]
    regional = sorted(t for t in by_tag if t.split("-", 1)[0] == language)  # "pt" asked, "pt-BR" given
    return by_tag[regional[0]] if regional else rule.deflection["en"]
