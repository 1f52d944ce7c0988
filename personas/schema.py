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

``content_policy`` (world and NPC): :class:`ContentPolicy` and :class:`PolicyRule`, defined
in :mod:`personas.policy_schema` and re-exported here.
"""

from __future__ import annotations

import warnings
from typing import Annotated, Any, Literal

from pydantic import Field, field_validator, model_validator

from npc_engine.errors import InvalidInputError, PersonaError
from personas.actions import check_args_schema, validate_action_args
from personas.policy_schema import ISO_3166_ALPHA2, ContentPolicy, PolicyRule, _no_duplicates, _Slug, _Strict

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
PersonaId = _Slug
Name = Annotated[str, Field(min_length=1, max_length=200)]
Register = Literal["formal", "casual", "gruff", "archaic", "playful", "terse"]


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
    # answer only at or above this calibrated confidence (about P(the cited category is right));
    # unset: the threshold fitted on the tenant's own tickets (answers ~85% of known questions)
    min_confidence: Unit | None = None
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
