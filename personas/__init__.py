"""Personas: the NPC and support-agent schemas, file loading, and card import.

Public API (see the README, "Writing a world", for the file format)::

    from personas import load_persona, load_personas, load_world_file, import_card

Only pydantic and PyYAML are imported here; nothing runs at import time.
"""

from personas.actions import check_args_schema, validate_action_args
from personas.card import (
    CardImport,
    LoreDraft,
    card_from_dict,
    import_card,
    load_card,
    persona_to_yaml,
    slugify,
)
from personas.loader import (
    DEFAULT_MAX_FILE_BYTES,
    PERSONA_KINDS,
    load_persona,
    load_personas,
    load_world_file,
    persona_json_schema,
)
from personas.schema import (
    AXES,
    DEFAULT_STAGES,
    DEFAULT_THRESHOLDS,
    EMOTIONS,
    ActionSpec,
    BrandVoice,
    Emotion,
    EmotionDelta,
    Escalation,
    EventImpact,
    KnowledgeScope,
    NpcPersona,
    Persona,
    RelationshipDelta,
    SensitiveTopic,
    SpeechStyle,
    SupportPersona,
    World,
    check_persona_against_world,
    world_problems,
)

__all__ = [
    "AXES",
    "DEFAULT_MAX_FILE_BYTES",
    "DEFAULT_STAGES",
    "DEFAULT_THRESHOLDS",
    "EMOTIONS",
    "PERSONA_KINDS",
    "ActionSpec",
    "BrandVoice",
    "CardImport",
    "Emotion",
    "EmotionDelta",
    "Escalation",
    "EventImpact",
    "KnowledgeScope",
    "LoreDraft",
    "NpcPersona",
    "Persona",
    "RelationshipDelta",
    "SensitiveTopic",
    "SpeechStyle",
    "SupportPersona",
    "World",
    "card_from_dict",
    "check_args_schema",
    "check_persona_against_world",
    "import_card",
    "load_card",
    "load_persona",
    "load_personas",
    "load_world_file",
    "persona_json_schema",
    "persona_to_yaml",
    "slugify",
    "validate_action_args",
    "world_problems",
]
