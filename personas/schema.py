"""Persona and world schemas (see the README, "Writing a world").

Every model forbids unknown fields, so a misspelt key is an error with its line,
not a silently ignored setting. Two kinds of persona share one discriminated union,
:data:`Persona`, keyed on ``kind``: :class:`NpcPersona` (``kind: npc``) and
:class:`SupportPersona` (``kind: support``).

Relationship thresholds: a persona's ``relationship_thresholds`` is the spec's
defaults with the file's stages laid over them, stage by stage (a stage given in the
file replaces that stage's defaults entirely). :func:`check_persona_against_world`
then checks the names against the world's stages; a default stage the world does
not use is ignored there, so worlds with their own stage names need not restate it.

``content_policy`` (world and NPC): rules by region, age rating and direction, each with
a deflection per locale; an NPC's rules add to the world's, or replace one of the same
``id``. :class:`npc_engine.guard.policy.PolicyGuard` applies them.
"""

from __future__ import annotations

import warnings
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from npc_engine.errors import InvalidInputError, PersonaError
from personas.actions import check_args_schema, validate_action_args

__all__ = [
    "AXES",
    "DEFAULT_STAGES",
    "DEFAULT_THRESHOLDS",
    "EMOTIONS",
    "ISO_3166_ALPHA2",
    "ActionSpec",
    "BrandVoice",
    "ContentPolicy",
    "Emotion",
    "EmotionDelta",
    "Escalation",
    "EventImpact",
    "KnowledgeScope",
    "NpcPersona",
    "Persona",
    "PolicyRule",
    "RelationshipDelta",
    "SensitiveTopic",
    "SpeechStyle",
    "SupportPersona",
    "World",
    "check_persona_against_world",
    "validate_action_args",
    "world_problems",
]

EMOTIONS = ("joy", "trust", "fear", "surprise", "sadness", "disgust", "anger", "anticipation")
"""Plutchik's eight basic emotions, in his wheel's order."""
AXES = ("trust", "respect", "familiarity")
"""Relationship axes, each -1..1."""
DEFAULT_STAGES = ("hostile", "wary", "stranger", "acquaintance", "friend", "confidant")
DEFAULT_THRESHOLDS: dict[str, dict[str, float]] = {
    "wary": {"trust": -0.5},
    "stranger": {"trust": -0.2},
    "acquaintance": {"trust": 0.0, "familiarity": 0.2},
    "friend": {"trust": 0.4, "familiarity": 0.4},
    "confidant": {"trust": 0.7, "familiarity": 0.6, "respect": 0.3},
}

Axis = Literal["trust", "respect", "familiarity"]
Unit = Annotated[float, Field(ge=0.0, le=1.0)]
Signed = Annotated[float, Field(ge=-1.0, le=1.0)]
PersonaId = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9_-]*$", max_length=64)]
Name = Annotated[str, Field(min_length=1, max_length=200)]
Register = Literal["formal", "casual", "gruff", "archaic", "playful", "terse"]
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
    model_config = ConfigDict(extra="forbid")


class Emotion(_Strict):
    """Emotion intensities, 0..1 each."""

    joy: Unit = 0.0
    trust: Unit = 0.0
    fear: Unit = 0.0
    surprise: Unit = 0.0
    sadness: Unit = 0.0
    disgust: Unit = 0.0
    anger: Unit = 0.0
    anticipation: Unit = 0.0


class EmotionDelta(_Strict):
    """A change to emotion intensities, -1..1 each."""

    joy: Signed = 0.0
    trust: Signed = 0.0
    fear: Signed = 0.0
    surprise: Signed = 0.0
    sadness: Signed = 0.0
    disgust: Signed = 0.0
    anger: Signed = 0.0
    anticipation: Signed = 0.0


class RelationshipDelta(_Strict):
    """A change to the relationship axes, -1..1 each."""

    trust: Signed = 0.0
    respect: Signed = 0.0
    familiarity: Signed = 0.0


class EventImpact(_Strict):
    """What one game event does to the NPC's emotion and relationship."""

    emotion: EmotionDelta = Field(default_factory=EmotionDelta)
    relationship: RelationshipDelta = Field(default_factory=RelationshipDelta)


with warnings.catch_warnings():
    # ``register`` is the spec's field name; pydantic warns because ABCMeta (the model
    # metaclass) has a ``register`` method, but instances read the field as expected.
    warnings.filterwarnings("ignore", message='Field name "register"', category=UserWarning)

    class SpeechStyle(_Strict):
        register: Register = "casual"
        catchphrases: list[str] = Field(default_factory=list)
        notes: str = ""


class KnowledgeScope(_Strict):
    """Factions and roles whose lore this NPC knows, beyond its own."""

    factions: list[str] = Field(default_factory=list)
    roles: list[str] = Field(default_factory=list)


class ActionSpec(_Strict):
    """An action the NPC may take; ``args`` is a JSON Schema object schema."""

    name: Annotated[str, Field(pattern=r"^[A-Za-z_][A-Za-z0-9_.-]*$", max_length=64)]
    description: str = ""
    args: dict[str, Any] = Field(default_factory=lambda: {"type": "object", "properties": {}})

    @field_validator("args")
    @classmethod
    def _supported_schema(cls, value: dict[str, Any]) -> dict[str, Any]:
        check_args_schema(value)
        return value

    def validate_args(self, args: Any) -> list[str]:
        """Problems with ``args`` for this action; empty when valid."""
        return validate_action_args(self, args)


class PolicyRule(_Strict):
    """Terms a player may not raise (``input``) or an NPC may not say (``output``).

    ``regions`` (ISO 3166-1 alpha-2) and ``below_age`` narrow whom it applies to (empty /
    ``None``: everyone). How ``terms`` match: see :mod:`npc_engine.guard.policy`.
    """

    id: PersonaId
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


class NpcPersona(_Strict):
    """An in-world character (``kind: npc``)."""

    kind: Literal["npc"]
    id: PersonaId
    name: Name
    localized_names: dict[str, str] = Field(default_factory=dict)
    role: str | None = None
    faction: str | None = None
    backstory: str = ""
    traits: list[str] = Field(default_factory=list)
    speech_style: SpeechStyle = Field(default_factory=SpeechStyle)
    baseline_emotion: Emotion = Field(default_factory=Emotion)
    knowledge_scope: KnowledgeScope = Field(default_factory=KnowledgeScope)
    allowed_actions: list[ActionSpec] = Field(default_factory=list)
    reactions: dict[str, EventImpact] = Field(default_factory=dict)
    relationship_thresholds: dict[str, dict[Axis, Signed]] = Field(
        default_factory=lambda: {stage: dict(mins) for stage, mins in DEFAULT_THRESHOLDS.items()}  # type: ignore[arg-type]
    )
    content_policy: ContentPolicy = Field(default_factory=ContentPolicy)

    @field_validator("allowed_actions")
    @classmethod
    def _unique_action_names(cls, value: list[ActionSpec]) -> list[ActionSpec]:
        seen: set[str] = set()
        for action in value:
            if action.name in seen:
                raise ValueError(f"action {action.name!r} is defined twice")
            seen.add(action.name)
        return value

    @field_validator("relationship_thresholds")
    @classmethod
    def _merge_default_thresholds(cls, value: dict[str, dict[str, float]]) -> dict[str, dict[str, float]]:
        merged = {stage: dict(mins) for stage, mins in DEFAULT_THRESHOLDS.items()}
        merged.update(value)
        return merged

    def action(self, name: str) -> ActionSpec | None:
        """The allowed action called ``name``, or ``None``."""
        return next((a for a in self.allowed_actions if a.name == name), None)

    def thresholds_for(self, stages: list[str] | tuple[str, ...]) -> dict[str, dict[str, float]]:
        """Thresholds of the given stages only (in their order), e.g. ``world.relationship_stages``."""
        return {
            s: {str(axis): value for axis, value in self.relationship_thresholds[s].items()}
            for s in stages
            if s in self.relationship_thresholds
        }


class BrandVoice(_Strict):
    tone: str = ""
    sign_off: str = ""
    notes: str = ""


class SensitiveTopic(_Strict):
    """A topic that is always escalated to a human when one of its keywords appears."""

    name: Annotated[str, Field(min_length=1)]
    keywords: Annotated[list[Annotated[str, Field(min_length=1)]], Field(min_length=1)]


class Escalation(_Strict):
    min_confidence: Unit = 0.55
    escalate_on_negative_sentiment: bool = True
    max_failed_answers: Annotated[int, Field(ge=0)] = 2
    human_request_phrases: list[str] = Field(default_factory=list)


class SupportPersona(_Strict):
    """A customer-support agent (``kind: support``)."""

    kind: Literal["support"]
    id: PersonaId
    name: Name
    brand_voice: BrandVoice = Field(default_factory=BrandVoice)
    languages: list[str] = Field(default_factory=lambda: ["en"])
    sensitive_topics: list[SensitiveTopic] = Field(default_factory=list)
    escalation: Escalation = Field(default_factory=Escalation)
    categories: list[str] = Field(default_factory=list)

    @field_validator("sensitive_topics")
    @classmethod
    def _unique_topics(cls, value: list[SensitiveTopic]) -> list[SensitiveTopic]:
        names = [topic.name for topic in value]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise ValueError(f"sensitive topic(s) defined twice: {', '.join(dupes)}")
        return value


Persona = Annotated[NpcPersona | SupportPersona, Field(discriminator="kind")]
"""Either kind of persona, chosen by ``kind``."""


class World(_Strict):
    """``world.yaml``: every key optional."""

    id: PersonaId = "world"
    name: str = ""
    default_locale: Annotated[str, Field(pattern=r"^[A-Za-z]{2,3}([-_][A-Za-z0-9]+)*$")] = "en"
    relationship_stages: list[str] = Field(default_factory=lambda: list(DEFAULT_STAGES))
    factions: list[str] = Field(default_factory=list)
    out_of_world_terms: list[str] = Field(default_factory=list)
    content_policy: ContentPolicy = Field(default_factory=ContentPolicy)

    @field_validator("relationship_stages")
    @classmethod
    def _stages(cls, value: list[str]) -> list[str]:
        if len(value) < 2:
            raise ValueError("at least two relationship stages are needed (lowest to highest)")
        return _no_duplicates(value, "relationship stage")

    @field_validator("factions")
    @classmethod
    def _factions(cls, value: list[str]) -> list[str]:
        return _no_duplicates(value, "faction")

    @model_validator(mode="after")
    def _default_name(self) -> World:
        if not self.name:
            self.name = self.id
        return self

    def stage_rank(self, name: str) -> int:
        """Position of stage ``name`` (0 = lowest); :class:`InvalidInputError` if unknown."""
        try:
            return self.relationship_stages.index(name)
        except ValueError:
            raise InvalidInputError(
                f"unknown relationship stage {name!r}; this world's stages are: "
                f"{', '.join(self.relationship_stages)}"
            ) from None


def _no_duplicates(values: list[str], what: str) -> list[str]:
    dupes = sorted({v for v in values if values.count(v) > 1})
    if dupes:
        raise ValueError(f"{what}(s) listed twice: {', '.join(dupes)}")
    return values


def world_problems(
    persona: NpcPersona | SupportPersona, world: World
) -> list[tuple[tuple[str | int, ...], str]]:
    """(field path, reason) for each way ``persona`` disagrees with ``world``."""
    if not isinstance(persona, NpcPersona):
        return []
    problems: list[tuple[tuple[str | int, ...], str]] = []
    stages = world.relationship_stages
    for stage, mins in persona.relationship_thresholds.items():
        if stage not in stages and DEFAULT_THRESHOLDS.get(stage) != mins:
            problems.append(
                (
                    ("relationship_thresholds", stage),
                    f"unknown stage {stage!r}; the world's stages are: {', '.join(stages)}",
                )
            )
    if world.factions:
        known = ", ".join(world.factions)
        if persona.faction is not None and persona.faction not in world.factions:
            problems.append(
                (("faction",), f"unknown faction {persona.faction!r}; the world's factions are: {known}")
            )
        for index, faction in enumerate(persona.knowledge_scope.factions):
            if faction not in world.factions:
                problems.append(
                    (
                        ("knowledge_scope", "factions", index),
                        f"unknown faction {faction!r}; the world's factions are: {known}",
                    )
                )
    return problems


def check_persona_against_world(
    persona: NpcPersona | SupportPersona, world: World, *, path: str | None = None
) -> None:
    """Raise :class:`PersonaError` if the persona names stages (or factions) the world lacks.

    Threshold stages must be the world's; when ``world.yaml`` lists factions, the
    NPC's faction and ``knowledge_scope.factions`` must be among them.
    """
    problems = world_problems(persona, world)
    if problems:
        loc, reason = problems[0]
        raise PersonaError(
            reason, path=path or f"persona {persona.id!r}", field=".".join(str(part) for part in loc)
        )
