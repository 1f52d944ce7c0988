"""Content-policy schemas: rules by region, age rating and direction (see the README, "Writing a world").

``content_policy`` (world and NPC): each :class:`PolicyRule` names terms a player may not
raise (``input``) or an NPC may not say (``output``), narrowed by ``regions`` (ISO 3166-1
alpha-2) and ``below_age``, with a deflection per locale; an NPC's rules add to the
world's, or replace one of the same ``id``. :class:`npc_engine.guard.policy.PolicyGuard`
applies them.

The strict model base and the id type shared with :mod:`personas.schema` live here, so
that module can import this one and not the other way round.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

__all__ = ["ISO_3166_ALPHA2", "ContentPolicy", "PolicyRule"]

_Slug = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9_-]*$", max_length=64)]
_LocaleTag = Annotated[str, Field(pattern=r"^[A-Za-z]{2,3}([-_][A-Za-z0-9]+)*$")]

_ISO_CODES = """AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ BA BB BD BE BF BG BH BI BJ BL BM BN BO BQ BR BS BT BV BW
BY BZ CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ DE DJ DK DM DO DZ EC EE EG EH ER ES ET FI
FJ FK FM FO FR GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GS GT GU GW GY HK HM HN HR HT HU ID IE IL IM IN
IO IQ IR IS IT JE JM JO JP KE KG KH KI KM KN KP KR KW KY KZ LA LB LC LI LK LR LS LT LU LV LY MA MC MD ME
MF MG MH MK ML MM MN MO MP MQ MR MS MT MU MV MW MX MY MZ NA NC NE NF NG NI NL NO NP NR NU NZ OM PA PE PF
PG PH PK PL PM PN PR PS PT PW PY QA RE RO RS RU RW SA SB SC SD SE SG SH SI SJ SK SL SM SN SO SR SS ST SV
SX SY SZ TC TD TF TG TH TJ TK TL TM TN TO TR TT TV TW TZ UA UG UM US UY UZ VA VC VE VG VI VN VU WF WS XK
YE YT ZA ZM ZW"""
ISO_3166_ALPHA2 = frozenset(_ISO_CODES.split())
"""ISO 3166-1 alpha-2 country codes (and XK, Kosovo's widely used user-assigned code)."""
_REGION_HINTS = {"UK": "GB", "EL": "GR"}


class _Strict(BaseModel):
    """Unknown fields are errors: a misspelt key fails with its line."""

    model_config = ConfigDict(extra="forbid")


def _no_duplicates(values: list[str], what: str) -> list[str]:
    dupes = sorted({v for v in values if values.count(v) > 1})
    if dupes:
        raise ValueError(f"{what}(s) listed twice: {', '.join(dupes)}")
    return values


class PolicyRule(_Strict):
    """Terms a player may not raise (``input``) or an NPC may not say (``output``).

    ``regions`` (ISO 3166-1 alpha-2) and ``below_age`` narrow whom it applies to (empty /
    ``None``: everyone). How ``terms`` match: see :mod:`npc_engine.guard.policy`.
    """

    id: _Slug
    terms: Annotated[list[Annotated[str, Field(max_length=200, pattern=r"[^\s*]")]], Field(min_length=1)]
    regions: list[str] = Field(default_factory=list)
    below_age: Annotated[int, Field(ge=1, le=99)] | None = None
    applies_to: Annotated[list[Literal["input", "output"]], Field(min_length=1)] = ["input", "output"]
    deflection: dict[_LocaleTag, Annotated[str, Field(max_length=2000)]]

    @field_validator("regions")
    @classmethod
    def _iso_regions(cls, value: list[str]) -> list[str]:
        codes = [code.strip().upper() for code in value]
        for code in codes:
            if code not in ISO_3166_ALPHA2:
                hint = _REGION_HINTS.get(code)
                raise ValueError(
                    f"{code!r} is not an ISO 3166-1 alpha-2 country code"
                    + (f" (did you mean {hint}?)" if hint else " (two letters, e.g. US, CN, BE)")
                )
        return _no_duplicates(codes, "region")

    @field_validator("deflection")
    @classmethod
    def _english_deflection(cls, value: dict[str, str]) -> dict[str, str]:
        if "en" not in value:
            raise ValueError('needs an "en" deflection (used when the player\'s locale has none)')
        empty = sorted(locale for locale, text in value.items() if not text.strip())
        if empty:
            raise ValueError(f"empty deflection text for: {', '.join(empty)}")
        return value


class ContentPolicy(_Strict):
    """Rules on what may be discussed, per region and age rating."""

    assume_age_rating: Annotated[int, Field(ge=0, le=99)] = 12  # when unknown; low is conservative
    rules: list[PolicyRule] = Field(default_factory=list)

    @field_validator("rules")
    @classmethod
    def _unique_rule_ids(cls, value: list[PolicyRule]) -> list[PolicyRule]:
        _no_duplicates([rule.id for rule in value], "policy rule id")
        return value
