"""``persona_json_schema()``: the JSON Schema editors use for persona files."""

from __future__ import annotations

import json

import personas
from personas import persona_json_schema


def test_the_schema_is_valid_json():
    text = json.dumps(persona_json_schema())

    assert json.loads(text)["$schema"].startswith("https://json-schema.org/")


def test_the_schema_lists_both_kinds():
    schema = persona_json_schema()

    assert set(schema["discriminator"]["mapping"]) == {"npc", "support"}
    assert len(schema["oneOf"]) == 2
    assert {"NpcPersona", "SupportPersona"} <= set(schema["$defs"])


def test_the_schema_forbids_unknown_fields():
    schema = persona_json_schema()

    assert schema["$defs"]["NpcPersona"]["additionalProperties"] is False
    assert schema["$defs"]["SpeechStyle"]["additionalProperties"] is False


def test_the_package_exports_exactly_its_all():
    public = {name for name in vars(personas) if not name.startswith("_")}
    submodules = {"actions", "card", "dump", "loader", "policy_schema", "schema"}

    assert set(personas.__all__) == public - submodules
