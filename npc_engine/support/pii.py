"""PII redaction: emails, phones, cards, IPs, street addresses and player ids become ``[kind]``.

Support text is redacted before it is embedded, indexed, summarised or logged; the original
stays only in the conversation record staff may see. :meth:`PiiRedactor.redact` returns a
:class:`Redaction`: the text with typed placeholders (``[email]``, ``[phone]``, ``[card]``,
``[ip]``, ``[address]``, ``[player_id]``) and the kind and span of each match, never the value.
What counts (best effort; when in doubt a number is left, unless it is shaped like a card):

* ``player_id`` — the game's configured regexes, used as written (add ``\\b`` yourself).
* ``email`` — ``local@domain.tld`` in any script but CJK (in unspaced CJK text the local part
  stops at the first Han, kana or hangul character, so a CJK local part is missed), and
  spelled-out forms: "jo [at] example [dot] com", "jo at example dot com".
* ``card`` — 13-19 digits, single spaces or dashes allowed between them, Luhn-valid. A 4-4-4-4
  grouped number is a card even when Luhn fails (a mistyped card is still most of a card); an
  unbroken Luhn-invalid run (an order or tracking number) is left. IMEIs are Luhn-valid too.
* ``ip`` — IPv4 with octets 0-255, not inside a longer dotted run (``1.2.3.4.5``) or glued to a
  letter (``v1.2.3.4``); a bare ``1.2.3.4`` *is* redacted, as it cannot be told from an address.
  IPv6 as :mod:`ipaddress` accepts it, with two or more non-empty groups (``::1`` stays).
* ``phone`` — 7-15 digits shaped like a phone number: a ``+`` country code (or ``00`` and a
  separator), an area code in parentheses, or digit groups split by space, dash, dot or slash.
  Dates (``2024-05-01``), decimals (``12345.67``), dotted versions (``10.0.19045.4291``) and
  time ranges, years (``2019-2024``) and year-first serials (``2024-000123``), round ranges
  (``1000-2000``) and runs of single digits are never phones. An unbroken run
  (``4155551234``) or a thousands-shaped one (``1 000 000``) is a phone only within 24
  characters after a cue word ("call", "phone", "tel", "Telefon", "teléfono", 电话, 手机...),
  or when it is a Chinese mobile number (``1[3-9]`` and nine digits); otherwise it may be an
  order number or an amount and is left. Prices, quantities, times and versions are too short.
* ``address`` — a street line: "123 Main St", "221B Baker Street, Apt 4"; "Hauptstraße 5",
  "Berliner Straße 12a"; "12 rue de la Paix"; "Calle Mayor 3", "Via Roma 10", "Rua Augusta 100";
  "建国路88号". Street names must be capitalised (so "2 swords on the way" stays); postcodes,
  cities and free-form addresses are not detected.

Matching runs on a length-preserving NFKC fold: every character NFKC maps to a single
character is replaced (fullwidth ``１３８``, ``＠``, ``－``, the ideographic space) and every
script's digits become ASCII (``९८७``), so Chinese-keyboard input is caught while everything
outside the placeholders is kept as written (characters NFKC expands, like ``㎡``, stay as they are).
Overlapping matches merge into one placeholder named for the longest (ties: the order above).
Placeholders already in the text are left alone, so redacting twice equals redacting once.
"""

from __future__ import annotations

import bisect
import ipaddress
import re
import unicodedata
from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from itertools import accumulate
from typing import Any, Literal, TypeVar, cast

from structlog.typing import EventDict, WrappedLogger

from npc_engine.errors import ConfigError

__all__ = ["PiiKind", "PiiMatch", "PiiRedactor", "Redaction", "redact_processor"]

PiiKind = Literal["player_id", "email", "card", "ip", "phone", "address"]
_KINDS: tuple[PiiKind, ...] = ("player_id", "email", "card", "ip", "phone", "address")  # tie order
_PLACEHOLDER = re.compile(r"\[(?:player_id|email|card|ip|phone|address)\]")
_T = TypeVar("_T")

_CJK = "\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff"
_W = rf"[^\W{_CJK}]"  # a word character that is not CJK
_LABEL = rf"{_W}+(?:-+{_W}+)*"
_TLD = rf"[^\W\d_{_CJK}]{{2,}}"
_LOCAL = rf"{_W}(?<!{_W}{_W})(?<![.%+-]{_W})(?:{_W}|[\u0300-\u036f.%+-])*"
_EMAIL = re.compile(rf"{_LOCAL}@(?:{_LABEL}\.)+{_TLD}")  # searched only near an "@"
_AT = r"\s*[\[({<]\s*at\s*[\])}>]\s*|\s+at\s+"
_DOT = r"\s*[\[({<]\s*dot\s*[\])}>]\s*|\s+dot\s+|\."
_EMAIL_SPELLED = re.compile(rf"{_LOCAL}(?P<at>{_AT}){_LABEL}(?:(?:{_DOT}){_LABEL})*(?:{_DOT}){_TLD}", re.I)
_SPELLED_HINTS = ("dot", "[at", "(at", "{at", "<at", "[ at", "( at")
_SPELLED_DOT = re.compile(r"[\s\[({<]dot[\s\])}>]", re.I)

# Patterns open with a character class and look behind only after it, so that the regex
# engine can skip ahead fast (a 1 MB message takes a fraction of a second).
_CARD_RUN = re.compile(r"[0-9](?<![0-9][0-9])(?<![0-9][ -][0-9])(?:[ -]?[0-9]){12,}(?![ -]?[0-9])")
_IPV4 = re.compile(r"[0-9](?<![0-9A-Za-z.][0-9])[0-9]{0,2}(?:\.[0-9]{1,3}){3}(?![0-9A-Za-z]|\.[0-9])")
_IPV6 = re.compile(
    r"[0-9A-Fa-f:](?<![0-9A-Za-z:.][0-9A-Fa-f:])(?:(?<=:)|[0-9A-Fa-f]{0,3}:)(?:[0-9A-Fa-f]{0,4}:){1,6}"
    r"(?:[0-9]{1,3}(?:\.[0-9]{1,3}){3}|[0-9A-Fa-f]{1,4})?"
    r"(?:%[0-9A-Za-z]+)?(?![0-9A-Za-z:])"
)
_GROUPS = r"(?:[ .\-/][0-9]{1,15}){0,7}"
_PHONE = re.compile(  # a "+", "(" or digit, then what may follow each
    r"[+(0-9](?<![0-9A-Za-z_+.\-/$€£¥#@][+(0-9])(?<![0-9][ .\-/][+(0-9])(?:"
    rf"(?<=\+)[0-9]{{1,3}}[ .\-/]?(?:\([0-9]{{1,5}}\)[ .\-]?)?[0-9]{{1,15}}{_GROUPS}"
    rf"|(?<=\()[0-9]{{1,5}}\)[ .\-]?[0-9]{{1,15}}{_GROUPS}"
    rf"|(?<=[0-9])[0-9]{{0,14}}{_GROUPS})"
    r"(?![0-9A-Za-z_:])(?![ .\-/][0-9])"
)
_COUNTRY_CODE = re.compile(r"\+[0-9]{1,3}[ .\-/]?|00[0-9]{1,3}[ .\-/]")
_PHONE_CUE = re.compile(
    r"(?:(?<![A-Za-z])(?:phone|tel|telephone|mobile|cell|call|text|sms|whatsapp|fax|contact|reach"
    r"|telefon|handy|ruf|anrufen|t[ée]l[ée]phone|t[ée]l|portable|appelle|tel[ée]fono|m[óo]vil|celular"
    r"|ll[áa]mame|llama|telem[óo]vel|телефон|тел)|电话|手机|電話|手機|联系|聯繫|फ़ोन|फोन|मोबाइल)[^0-9\n]{0,24}$",
    re.I,
)
_CN_MOBILE = re.compile(r"1[3-9][0-9]{9}")

_NAME = r"[A-ZÀ-ÖØ-Þ][\w'’-]*"
_ARTICLES = r"(?:(?i:de|du|des|la|le|les)\s+|(?i:l|d)['’])*"
_ADDRESS_NUMBER_FIRST = re.compile(
    rf"[0-9](?<!{_W}[0-9])(?<![.,-][0-9])[0-9]{{0,4}}(?:"
    # English: one to four capitalised words (or "5th"), a street type, an optional unit
    rf"[A-Za-z]?(?:-[0-9]{{1,5}})?,?\s+(?:(?:{_NAME}|[0-9]+(?:st|nd|rd|th))\s+){{1,4}}"
    r"(?i:(?:street|avenue|road|boulevard|lane|drive|way|court|place|terrace|parkway|highway|square|circle)\b"
    r"|(?:st|ave|rd|blvd|ln|dr|ct|pl|pkwy|hwy|sq|cir)\b\.?)"
    r"(?:,?\s*(?i:apt|apartment|suite|ste|unit|flat|\#)\.?\s*\w+)?"
    # French: a street type, articles, capitalised words
    r"|(?:\s?(?:bis|ter))?,?\s+(?i:rue|avenue|av\.|boulevard|bd|place|impasse|allée|chemin|quai|route)\s+"
    rf"{_ARTICLES}{_NAME}(?:\s+{_ARTICLES}{_NAME})*)"
)
_DE_HINTS = ("straße", "strasse", "str.", "weg", "gasse", "platz", "allee")
_STREET_TYPES: tuple[str, ...] = ("Calle", "C/", "Avenida", "Avda.", "Av.", "Plaza", "Paseo", "Camino")
_STREET_TYPES += ("Carrera", "Ronda", "Travesía", "Via", "Viale", "Piazza", "Corso", "Rua", "Travessa")
_ADDRESS_NAME_FIRST = re.compile(
    # German: a compound street name or a named Straße/Weg, then the house number
    r"(?<!\w)(?:[A-ZÄÖÜ][a-zäöüß]+(?:-[A-ZÄÖÜ]?[a-zäöüß]+)*(?:straße|strasse|str\.|weg|gasse|platz|allee)"
    rf"|(?:{_NAME}\s+){{1,2}}(?:Straße|Strasse|Str\.|Weg|Gasse|Platz|Allee))\s*[0-9]{{1,4}}[a-zA-Z]?(?!\w)"
    # Spanish, Italian, Portuguese: a street type, the name, the house number
    rf"|(?<!\w)(?:{'|'.join(map(re.escape, _STREET_TYPES))})\s+"
    r"(?:(?:de|del|la|las|los|el|di|della|do|da|dos|das)\s+)*"
    rf"{_NAME}(?:\s+{_NAME}){{0,3}},?\s+(?:n[º°o]\.?\s*)?[0-9]{{1,4}}[A-Za-z]?(?!\w)"
)
_ADDRESS_ZH = re.compile(r"(?:路|街|大道|巷)[0-9]{1,5}[号號]")  # and the 2-4 Han characters before it


@dataclass(frozen=True, slots=True)
class PiiMatch:
    """One redacted span of the original text: its kind and where it was, never its value."""

    kind: PiiKind
    start: int
    end: int


@dataclass(frozen=True, slots=True)
class Redaction:
    """The redacted text and what was taken out of it (kinds and spans of the original)."""

    text: str
    found: tuple[PiiMatch, ...] = ()

    @property
    def counts(self) -> dict[PiiKind, int]:
        return dict(Counter(match.kind for match in self.found))


@dataclass(frozen=True, kw_only=True)
class PiiRedactor:
    """Finds and replaces PII; ``player_id_patterns`` are the game's regexes for its player ids."""

    player_id_patterns: Sequence[str] = ()
    _player_ids: tuple[re.Pattern[str], ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if isinstance(self.player_id_patterns, str):
            raise ConfigError("player_id_patterns must be a list of regexes, not one string")
        compiled = []
        for pattern in self.player_id_patterns:
            try:
                regex = re.compile(pattern)
            except (re.error, TypeError) as err:
                raise ConfigError(f"invalid player id pattern '{pattern}': {err}") from err
            if regex.fullmatch("") is not None:
                raise ConfigError(f"player id pattern '{pattern}' matches the empty string")
            compiled.append(regex)
        object.__setattr__(self, "player_id_patterns", tuple(self.player_id_patterns))
        object.__setattr__(self, "_player_ids", tuple(compiled))

    def redact(self, text: str) -> Redaction:
        """Replace every PII span of ``text`` with its ``[kind]`` placeholder."""
        spans = self._spans(_fold(text))
        if not spans:
            return Redaction(text)
        parts: list[str] = []
        position = 0
        for kind, start, end in spans:
            parts += (text[position:start], f"[{kind}]")
            position = end
        parts.append(text[position:])
        return Redaction("".join(parts), tuple(PiiMatch(k, s, e) for k, s, e in spans))

    def redact_value(self, value: _T) -> _T:
        """Redact every string (dict keys too) inside dicts, lists, tuples and sets; others stay."""
        return cast(_T, self._redact_any(value, stringify=False))

    def _redact_any(self, value: object, *, stringify: bool) -> object:
        if isinstance(value, str):
            return self.redact(value).text
        if isinstance(value, Mapping):
            return {
                self._redact_any(k, stringify=False): self._redact_any(v, stringify=stringify)
                for k, v in value.items()
            }
        if isinstance(value, list | tuple | set | frozenset):
            items = [self._redact_any(item, stringify=stringify) for item in value]
            if isinstance(value, tuple) and hasattr(value, "_fields"):  # a namedtuple
                return cast(Any, value)._make(items)
            return type(value)(items) if isinstance(value, tuple | set | frozenset) else items
        if not stringify or value is None or isinstance(value, bool | int | float | bytes):
            return value
        return self.redact(repr(value)).text  # what a renderer would print, redacted

    def _spans(self, folded: str) -> list[tuple[PiiKind, int, int]]:
        lower = folded.lower()  # for cheap "is it worth a regex" checks only
        finders = (self._player_ids_in, _emails, _cards, _ips, _phones, _addresses)  # in _KINDS order
        candidates = [
            (start, end, rank)
            for rank, find in enumerate(finders)
            for start, end in find(folded, lower)
            if end > start
        ]
        if "[" in folded and candidates:  # placeholders from an earlier pass are left alone
            held = [m.span() for m in _PLACEHOLDER.finditer(folded)]
            starts = [s for s, _ in held]

            def clear(start: int, end: int) -> bool:
                i = bisect.bisect_left(starts, end) - 1  # the last placeholder starting before `end`
                return i < 0 or held[i][1] <= start

            candidates = [c for c in candidates if clear(c[0], c[1])]
        candidates.sort(key=lambda c: (c[0], c[0] - c[1], c[2]))
        merged: list[list[int]] = []  # [start, end, best length, best rank]
        for start, end, rank in candidates:
            if merged and start < merged[-1][1]:
                last = merged[-1]
                last[1] = max(last[1], end)
                if (end - start, -rank) > (last[2], -last[3]):
                    last[2], last[3] = end - start, rank
            else:
                merged.append([start, end, end - start, rank])
        return [(_KINDS[rank], start, end) for start, end, _, rank in merged]

    def _player_ids_in(self, text: str, lower: str) -> Iterator[tuple[int, int]]:
        for regex in self._player_ids:
            yield from (m.span() for m in regex.finditer(text))


def redact_processor(redactor: PiiRedactor) -> Callable[[WrappedLogger, str, EventDict], EventDict]:
    """A structlog processor that redacts every string of an event, ``event`` included.

    Other objects (exceptions, models) become their redacted ``repr``, as a renderer would print
    them; values under ``_``-prefixed keys (structlog's own metadata) keep their type.
    """

    def redact_pii(logger: WrappedLogger, method_name: str, event_dict: EventDict) -> EventDict:
        return {
            key: redactor._redact_any(value, stringify=not key.startswith("_"))
            for key, value in event_dict.items()
        }

    return redact_pii


@cache
def _fold_table() -> dict[int, str]:
    """Each character that NFKC maps to one other character, and every script's digits, as ASCII."""
    table: dict[int, str] = {}
    for low, high in ((0x00A0, 0xD800), (0xF900, 0x10000), (0x1D400, 0x1D800)):
        for point in range(low, high):
            folded = unicodedata.normalize("NFKC", chr(point))
            decimal = unicodedata.decimal(chr(point), None)  # any script's digits: ٣, ३, ３
            if decimal is not None:
                table[point] = str(decimal)
            elif len(folded) == 1 and folded != chr(point):
                table[point] = folded
    return table


@cache
def _foldable() -> frozenset[str]:
    return frozenset(map(chr, _fold_table()))


def _fold(text: str) -> str:
    if text.isascii() or _foldable().isdisjoint(text):
        return text
    return text.translate(_fold_table())


def _windows(text: str, anchor: str, radius: int) -> Iterator[tuple[int, int]]:
    """Merged ``[start, end)`` stretches within ``radius`` of each occurrence of ``anchor``."""
    at = text.find(anchor)
    while at != -1:
        start, end = max(0, at - radius), at + radius
        at = text.find(anchor, at + 1)
        while at != -1 and at < end:
            end = at + radius
            at = text.find(anchor, at + 1)
        yield start, min(end, len(text))


def _emails(text: str, lower: str) -> Iterator[tuple[int, int]]:
    for start, end in _windows(text, "@", 256):
        yield from (m.span() for m in _EMAIL.finditer(text, start, end))
    if any(hint in lower for hint in _SPELLED_HINTS):
        for m in _EMAIL_SPELLED.finditer(text):
            # "jo at example.com" is too like "look at this.That": a spelled "at" needs a spelled "dot"
            if m["at"].strip().lower() != "at" or _SPELLED_DOT.search(m[0], m.end("at") - m.start()):
                yield m.span()


def _luhn(digits: str) -> bool:
    total = 0
    for index, char in enumerate(reversed(digits)):
        digit = int(char) * (2 if index % 2 else 1)
        total += digit - 9 if digit > 9 else digit
    return total % 10 == 0


def _cards(text: str, lower: str) -> Iterator[tuple[int, int]]:
    """Leftmost-longest runs of whole digit groups that are cards, inside each long digit run."""
    for run in _CARD_RUN.finditer(text):
        groups = run[0].replace("-", " ").split(" ")  # separators are single characters
        sizes = [len(group) for group in groups]
        offsets = list(accumulate((size + 1 for size in sizes), initial=run.start()))
        # no card is written with two groups under 3 digits, so most starts are skipped at once
        starts = [i for i, size in enumerate(sizes) if size >= 3 or sizes[i + 1 : i + 2] >= [3]]
        done = 0
        for i in starts:
            if i < done:
                continue
            best, digits, short = None, "", 0
            for j in range(i, len(groups)):
                digits += groups[j]
                short += sizes[j] < 3
                if len(digits) > 19 or short > 1:
                    break
                if len(digits) >= 13 and ((j - i == 3 and sizes[i : j + 1] == [4] * 4) or _luhn(digits)):
                    best = j
            if best is not None:
                yield offsets[i], offsets[best] + sizes[best]
                done = best + 1


def _ips(text: str, lower: str) -> Iterator[tuple[int, int]]:
    yield from (m.span() for m in _IPV4.finditer(text) if all(int(o) <= 255 for o in m[0].split(".")))
    if text.count(":") >= 2:
        yield from (m.span() for m in _IPV6.finditer(text) if _is_ipv6(m[0]))


def _phones(text: str, lower: str) -> Iterator[tuple[int, int]]:
    yield from (m.span() for m in _PHONE.finditer(text) if len(m[0]) >= 7 and _is_phone(text, m))


def _addresses(text: str, lower: str) -> Iterator[tuple[int, int]]:
    yield from (m.span() for m in _ADDRESS_NUMBER_FIRST.finditer(text))
    if any(hint in lower for hint in _DE_HINTS) or any(kind in text for kind in _STREET_TYPES):
        yield from (m.span() for m in _ADDRESS_NAME_FIRST.finditer(text))
    if "号" in text or "號" in text:
        for m in _ADDRESS_ZH.finditer(text):
            start = m.start()
            while start > max(0, m.start() - 4) and "\u4e00" <= text[start - 1] <= "\u9fff":
                start -= 1
            if m.start() - start >= 2:
                yield start, m.end()


def _is_ipv6(candidate: str) -> bool:
    address = candidate.split("%")[0]
    try:
        ipaddress.IPv6Address(address)
    except ValueError:
        return False
    return sum(1 for group in re.split(r"[:.]", address) if group) >= 2


def _is_phone(text: str, match: re.Match[str]) -> bool:
    country = _COUNTRY_CODE.match(match[0])
    cc = country[0] if country else ""
    body = match[0][len(cc) :]
    groups = re.findall(r"[0-9]+", body)
    digits = sum(map(len, groups)) + sum(c.isdigit() for c in cc)
    if not 7 <= digits <= 15:
        return False
    separators = set(re.findall(r"[ .\-/]", body))
    sizes = [len(g) for g in groups]
    years = [len(g) == 4 and 1900 <= int(g) <= 2099 for g in groups]
    day_month = sizes[1:] if sizes[0] == 4 else sizes[:2] if sizes[-1] == 4 else [3]
    if (
        (len(groups) == 3 and max(day_month) < 3)  # a date: 2024-05-01, 01.05.2024
        or (years[0] and (len(groups) == 2 or all(years)))  # years, or a year-first serial: 2024-000123
        or (len(groups) == 2 and all(g.endswith("00") for g in groups))  # a round range: 1000-2000
        or ("." in separators and (len(groups) == 2 or len(separators) > 1))  # a decimal, a time range
        or (not cc and separators == {"."} and len(groups) > 3 and set(sizes) != {2})  # a version
        or sizes.count(1) > 1
    ):
        return False
    if cc or "(" in body:
        return True
    thousands = len(groups) > 1 and sizes[0] <= 3 and set(sizes[1:]) == {3} and separators <= {" ", "."}
    if separators and not thousands:
        return True
    return _PHONE_CUE.search(text, max(0, match.start() - 40), match.start()) is not None or bool(
        _CN_MOBILE.fullmatch(match[0])
    )
