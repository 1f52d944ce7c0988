"""Loading persona files and world.yaml: valid files load, invalid ones say file:line: field."""

from __future__ import annotations

from pathlib import Path

import pytest

from npc_engine.errors import InvalidInputError, PersonaError, SourceFileError
from personas import (
    DEFAULT_THRESHOLDS,
    NpcPersona,
    SupportPersona,
    World,
    check_persona_against_world,
    load_persona,
    load_personas,
    load_world_file,
    persona_to_yaml,
)

NPC = """\
kind: npc
id: tamsin
name: Tamsin Reedwhistle
localized_names: {es: Tamsin Silbajuncos}
role: ferrywoman
faction: rivermark
backstory: |
  Tamsin has poled the ferry across the Slow River for thirty years.
traits: [patient, nosy, kind]
speech_style:
  register: casual
  catchphrases: ["Mind the gap, dearie."]
  notes: Rambles about the weather.
baseline_emotion: {joy: 0.4, trust: 0.3}
knowledge_scope:
  factions: [millers]
  roles: [fisher]
allowed_actions:
  - name: ferry_across
    description: Take the player to the other bank.
    args:
      type: object
      properties:
        bank: {type: string, enum: [north, south]}
      required: [bank]
      additionalProperties: false
reactions:
  coin_tipped:
    emotion: {joy: 0.2}
    relationship: {trust: 0.05, familiarity: 0.1}
relationship_thresholds:
  friend: {trust: 0.5, familiarity: 0.5}
"""

SUPPORT = """\
kind: support
id: pim
name: Pim
brand_voice: {tone: cheerful, sign_off: "- Pim"}
languages: [en, fr]
sensitive_topics:
  - name: payments
    keywords: [refund, chargeback]
escalation:
  human_request_phrases: ["a real person"]
categories: [account, payments]
"""


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def line_of(text: str, needle: str) -> int:
    """1-based line of the first line containing ``needle``."""
    return next(i for i, line in enumerate(text.splitlines(), 1) if needle in line)


# ---- valid files --------------------------------------------------------------------


def test_a_valid_npc_persona_loads(tmp_path: Path):
    persona = load_persona(write(tmp_path, "tamsin.yaml", NPC))

    assert isinstance(persona, NpcPersona)
    assert persona.id == "tamsin"
    assert persona.localized_names == {"es": "Tamsin Silbajuncos"}
    assert persona.speech_style.register == "casual"
    assert persona.baseline_emotion.joy == 0.4
    assert persona.baseline_emotion.fear == 0.0
    assert persona.action("ferry_across") is not None
    assert persona.reactions["coin_tipped"].relationship.familiarity == 0.1


def test_a_valid_support_persona_loads_with_escalation_defaults(tmp_path: Path):
    persona = load_persona(write(tmp_path, "pim.yaml", SUPPORT))

    assert isinstance(persona, SupportPersona)
    assert persona.escalation.min_confidence is None  # the threshold fitted on the tenant's tickets
    assert persona.escalation.escalate_on_negative_sentiment is True
    assert persona.escalation.max_failed_answers == 2
    assert persona.escalation.human_request_phrases == ["a real person"]
    assert persona.sensitive_topics[0].keywords == ["refund", "chargeback"]


def test_omitted_thresholds_take_the_spec_defaults_and_given_stages_replace_them(tmp_path: Path):
    persona = load_persona(write(tmp_path, "tamsin.yaml", NPC))

    assert persona.relationship_thresholds["friend"] == {"trust": 0.5, "familiarity": 0.5}
    assert persona.relationship_thresholds["confidant"] == DEFAULT_THRESHOLDS["confidant"]
    assert persona.relationship_thresholds["wary"] == {"trust": -0.5}


def test_persona_to_yaml_round_trips(tmp_path: Path):
    for name, text in (("tamsin.yaml", NPC), ("pim.yaml", SUPPORT)):
        persona = load_persona(write(tmp_path, name, text))
        again = load_persona(write(tmp_path, f"again-{name}", persona_to_yaml(persona, header="generated")))

        assert again == persona


# ---- schema errors carry file, line and field ------------------------------------------


def test_a_wrong_field_value_reports_file_line_and_field(tmp_path: Path):
    text = NPC.replace(
        "baseline_emotion: {joy: 0.4, trust: 0.3}", "baseline_emotion:\n  trust: 0.3\n  joy: 7"
    )
    path = write(tmp_path, "tamsin.yaml", text)

    with pytest.raises(PersonaError) as err:
        load_persona(path)

    line = line_of(text, "joy: 7")
    assert f"{path}:{line}: baseline_emotion.joy:" in str(err.value)
    assert (err.value.line, err.value.field) == (line, "baseline_emotion.joy")
    assert "less than or equal to 1" in err.value.reason


def test_a_wrong_field_type_reports_its_line(tmp_path: Path):
    text = NPC.replace("traits: [patient, nosy, kind]", "traits: patient")
    path = write(tmp_path, "tamsin.yaml", text)

    with pytest.raises(PersonaError) as err:
        load_persona(path)

    assert (err.value.line, err.value.field) == (line_of(text, "traits:"), "traits")


def test_an_unknown_field_is_rejected_with_its_line(tmp_path: Path):
    text = NPC.replace("traits: [patient", "trait: [patient")
    path = write(tmp_path, "tamsin.yaml", text)

    with pytest.raises(PersonaError) as err:
        load_persona(path)

    assert (err.value.line, err.value.field) == (line_of(text, "trait:"), "trait")
    assert "Extra inputs are not permitted" in err.value.reason


def test_a_misspelt_nested_field_is_rejected_with_its_line(tmp_path: Path):
    text = NPC.replace("  register: casual", "  regster: casual")
    path = write(tmp_path, "tamsin.yaml", text)

    with pytest.raises(PersonaError) as err:
        load_persona(path)

    assert (err.value.line, err.value.field) == (line_of(text, "regster"), "speech_style.regster")


def test_an_invalid_enum_value_shows_what_was_given(tmp_path: Path):
    text = NPC.replace("register: casual", "register: pirate")

    with pytest.raises(PersonaError, match="got 'pirate'") as err:
        load_persona(write(tmp_path, "tamsin.yaml", text))

    assert err.value.field == "speech_style.register"


def test_an_out_of_range_reaction_delta_points_at_it(tmp_path: Path):
    text = NPC.replace("relationship: {trust: 0.05", "relationship: {trust: 1.5")

    with pytest.raises(PersonaError) as err:
        load_persona(write(tmp_path, "tamsin.yaml", text))

    assert err.value.field == "reactions.coin_tipped.relationship.trust"
    assert err.value.line == line_of(text, "trust: 1.5")


def test_an_unknown_threshold_axis_is_rejected(tmp_path: Path):
    text = NPC.replace("friend: {trust: 0.5", "friend: {love: 0.5")

    with pytest.raises(PersonaError) as err:
        load_persona(write(tmp_path, "tamsin.yaml", text))

    assert err.value.field is not None and err.value.field.startswith("relationship_thresholds.friend.love")
    assert err.value.line == line_of(text, "friend:")


def test_a_bad_persona_id_is_rejected(tmp_path: Path):
    with pytest.raises(PersonaError, match="got 'Tamsin R'") as err:
        load_persona(write(tmp_path, "tamsin.yaml", NPC.replace("id: tamsin", "id: Tamsin R")))

    assert (err.value.field, err.value.line) == ("id", 2)


def test_a_missing_kind_names_the_allowed_values(tmp_path: Path):
    with pytest.raises(PersonaError, match="'npc', 'support'") as err:
        load_persona(write(tmp_path, "tamsin.yaml", NPC.replace("kind: npc\n", "")))

    assert err.value.field == "kind"


def test_an_unknown_kind_names_the_allowed_values(tmp_path: Path):
    with pytest.raises(PersonaError, match=r"must be one of 'npc', 'support', got 'villain'") as err:
        load_persona(write(tmp_path, "tamsin.yaml", NPC.replace("kind: npc", "kind: villain")))

    assert err.value.line == 1


def test_a_persona_file_must_be_a_mapping(tmp_path: Path):
    with pytest.raises(PersonaError, match="must be a mapping"):
        load_persona(write(tmp_path, "list.yaml", "- kind: npc\n"))


def test_action_names_must_be_unique(tmp_path: Path):
    text = NPC.replace("reactions:", "  - name: ferry_across\nreactions:")

    with pytest.raises(PersonaError, match="'ferry_across' is defined twice") as err:
        load_persona(write(tmp_path, "tamsin.yaml", text))

    assert err.value.field == "allowed_actions"


def test_an_unsupported_args_schema_keyword_is_rejected_at_load(tmp_path: Path):
    text = NPC.replace("bank: {type: string, enum: [north, south]}", "bank: {type: string, format: email}")

    with pytest.raises(PersonaError, match="unsupported JSON Schema keyword") as err:
        load_persona(write(tmp_path, "tamsin.yaml", text))

    assert (err.value.field, err.value.line) == ("allowed_actions.0.args", line_of(text, "args:"))


def test_args_must_be_an_object_schema(tmp_path: Path):
    text = NPC.replace("      type: object\n", "      type: array\n", 1)

    with pytest.raises(PersonaError, match="type: object"):
        load_persona(write(tmp_path, "tamsin.yaml", text))


# ---- file-level errors -----------------------------------------------------------------


def test_a_yaml_syntax_error_reports_its_line(tmp_path: Path):
    text = NPC.replace("traits: [patient, nosy, kind]", "traits: [patient, nosy, kind")
    path = write(tmp_path, "tamsin.yaml", text)

    with pytest.raises(PersonaError) as err:
        load_persona(path)

    assert err.value.path == str(path)
    assert err.value.line == line_of(text, "speech_style:")
    assert "invalid YAML" in err.value.reason


def test_a_duplicate_key_is_an_error_naming_key_and_line(tmp_path: Path):
    text = NPC.replace("role: ferrywoman\n", "role: ferrywoman\nrole: smuggler\n")

    with pytest.raises(PersonaError, match="duplicate key 'role'") as err:
        load_persona(write(tmp_path, "tamsin.yaml", text))

    assert err.value.line == line_of(text, "role: smuggler")


def test_an_empty_persona_file_is_an_error(tmp_path: Path):
    with pytest.raises(PersonaError, match="file is empty"):
        load_persona(write(tmp_path, "empty.yaml", ""))


def test_a_binary_persona_file_is_an_error(tmp_path: Path):
    path = tmp_path / "blob.yaml"
    path.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00")

    with pytest.raises(PersonaError, match=r"not UTF-8 text \(binary file\?\)"):
        load_persona(path)


def test_a_huge_persona_file_is_an_error_naming_the_limit(tmp_path: Path):
    path = write(tmp_path, "huge.yaml", NPC + "# " + "x" * 5000 + "\n")

    with pytest.raises(PersonaError, match="NPC_MAX_FILE_BYTES") as err:
        load_persona(path, max_bytes=4096)

    assert "4,096 bytes" in err.value.reason


def test_a_missing_persona_file_is_an_error(tmp_path: Path):
    with pytest.raises(PersonaError, match="file not found"):
        load_persona(tmp_path / "ghost.yaml")


# ---- a folder of personas --------------------------------------------------------------


def test_load_personas_reads_every_yaml_file_by_id(tmp_path: Path):
    write(tmp_path, "tamsin.yaml", NPC)
    write(tmp_path, "pim.yml", SUPPORT)
    write(tmp_path, "README.md", "not a persona")

    personas = load_personas(tmp_path)

    assert sorted(personas) == ["pim", "tamsin"]


def test_duplicate_persona_ids_name_both_files(tmp_path: Path):
    first = write(tmp_path, "a.yaml", NPC)
    second = write(tmp_path, "b.yaml", NPC.replace("name: Tamsin Reedwhistle", "name: Other Tamsin"))

    with pytest.raises(PersonaError) as err:
        load_personas(tmp_path)

    message = str(err.value)
    assert str(first) in message and str(second) in message
    assert "duplicate persona id 'tamsin'" in message
    assert err.value.line == 2


def test_load_personas_checks_threshold_stages_against_the_world(tmp_path: Path):
    text = NPC.replace("  friend: {trust", "  bestie: {trust")
    path = write(tmp_path, "tamsin.yaml", text)

    with pytest.raises(PersonaError, match="unknown stage 'bestie'") as err:
        load_personas(tmp_path, world=World())

    assert (err.value.path, err.value.line) == (str(path), line_of(text, "bestie"))
    assert err.value.field == "relationship_thresholds.bestie"


def test_a_missing_personas_folder_is_an_error(tmp_path: Path):
    with pytest.raises(SourceFileError, match="personas folder not found"):
        load_personas(tmp_path / "personas")


# ---- persona against world -------------------------------------------------------------


def test_check_against_world_accepts_default_stages_the_world_does_not_use(tmp_path: Path):
    persona = load_persona(write(tmp_path, "tamsin.yaml", NPC.replace("friend:", "pal:")))
    world = World(relationship_stages=["foe", "neutral", "pal"])

    check_persona_against_world(persona, world)

    assert persona.thresholds_for(world.relationship_stages) == {"pal": {"trust": 0.5, "familiarity": 0.5}}


def test_check_against_world_rejects_a_stage_the_world_lacks(tmp_path: Path):
    persona = load_persona(write(tmp_path, "tamsin.yaml", NPC))
    world = World(relationship_stages=["foe", "neutral", "ally"])

    with pytest.raises(PersonaError, match="unknown stage 'friend'") as err:
        check_persona_against_world(persona, world, path="tamsin.yaml")

    assert err.value.field == "relationship_thresholds.friend"


def test_check_against_world_rejects_an_unlisted_faction(tmp_path: Path):
    persona = load_persona(write(tmp_path, "tamsin.yaml", NPC))

    with pytest.raises(PersonaError, match="unknown faction 'rivermark'"):
        check_persona_against_world(persona, World(factions=["millers"]))


# ---- world.yaml ------------------------------------------------------------------------


def test_a_world_without_world_yaml_gets_the_defaults(tmp_path: Path):
    world = load_world_file(tmp_path)

    assert world.relationship_stages == ["hostile", "wary", "stranger", "acquaintance", "friend", "confidant"]
    assert world.default_locale == "en"
    assert world.factions == []


def test_world_yaml_loads(tmp_path: Path):
    write(tmp_path, "world.yaml", "id: vale\nname: The Vale\nfactions: [millers, rivermark]\n")

    world = load_world_file(tmp_path / "world.yaml")

    assert (world.id, world.name, world.factions) == ("vale", "The Vale", ["millers", "rivermark"])


def test_stage_rank_orders_stages_lowest_first():
    world = World()

    assert world.stage_rank("hostile") == 0
    assert world.stage_rank("confidant") == 5
    assert world.stage_rank("friend") > world.stage_rank("stranger")


def test_stage_rank_of_an_unknown_stage_lists_the_known_ones():
    with pytest.raises(InvalidInputError, match=r"unknown relationship stage 'bff'.*hostile, wary"):
        World().stage_rank("bff")


def test_an_unknown_world_field_is_rejected_with_its_line(tmp_path: Path):
    path = write(tmp_path, "world.yaml", "id: vale\nrelationship_stage: [a, b]\n")

    with pytest.raises(SourceFileError) as err:
        load_world_file(path)

    assert (err.value.line, err.value.field) == (2, "relationship_stage")


def test_duplicate_world_stages_are_rejected(tmp_path: Path):
    path = write(tmp_path, "world.yaml", "relationship_stages: [foe, friend, foe]\n")

    with pytest.raises(SourceFileError, match="listed twice: foe"):
        load_world_file(path)
