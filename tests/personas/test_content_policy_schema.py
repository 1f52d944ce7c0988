"""``content_policy`` in world.yaml and NPC files: strict, validated, and optional."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from npc_engine.errors import PersonaError, SourceFileError
from npc_engine.guard import PolicyGuard
from personas import NpcPersona, World, load_persona, load_personas, load_world_file, persona_json_schema
from personas.schema import ContentPolicy, PolicyRule


def rule(**overrides: Any) -> dict[str, Any]:
    return {"id": "rmt", "terms": ["real money"], "deflection": {"en": "Not here, friend."}, **overrides}


def test_a_world_without_a_policy_gets_an_empty_one() -> None:
    assert World().content_policy == ContentPolicy(assume_age_rating=12, rules=[])


def test_a_rule_gets_its_defaults() -> None:
    parsed = PolicyRule.model_validate(rule())
    assert (parsed.regions, parsed.below_age, parsed.applies_to) == ([], None, ["input", "output"])


def test_an_unknown_field_in_a_rule_is_rejected() -> None:
    with pytest.raises(ValidationError, match="Extra inputs"):
        PolicyRule.model_validate(rule(severity="high"))


def test_an_unknown_field_in_the_policy_is_rejected() -> None:
    with pytest.raises(ValidationError, match="Extra inputs"):
        ContentPolicy.model_validate({"rules": [], "strict": True})


@pytest.mark.parametrize("region", ["XX", "USA", "1A", ""])
def test_a_bad_region_is_rejected(region: str) -> None:
    with pytest.raises(ValidationError, match="ISO 3166-1 alpha-2"):
        PolicyRule.model_validate(rule(regions=[region]))


def test_uk_is_rejected_with_a_hint() -> None:
    with pytest.raises(ValidationError, match="did you mean GB"):
        PolicyRule.model_validate(rule(regions=["UK"]))


def test_regions_are_stored_upper_case() -> None:
    assert PolicyRule.model_validate(rule(regions=["cn", "Be"])).regions == ["CN", "BE"]


def test_a_missing_en_deflection_is_rejected() -> None:
    with pytest.raises(ValidationError, match='needs an "en" deflection'):
        PolicyRule.model_validate(rule(deflection={"es": "Aquí no."}))


def test_an_empty_deflection_text_is_rejected() -> None:
    with pytest.raises(ValidationError, match="empty deflection text for: es"):
        PolicyRule.model_validate(rule(deflection={"en": "No.", "es": "  "}))


def test_a_deflection_key_must_be_a_locale() -> None:
    with pytest.raises(ValidationError):
        PolicyRule.model_validate(rule(deflection={"en": "No.", "english!": "No."}))


def test_a_rule_needs_at_least_one_term() -> None:
    with pytest.raises(ValidationError):
        PolicyRule.model_validate(rule(terms=[]))


def test_a_term_of_only_a_star_is_rejected() -> None:
    with pytest.raises(ValidationError):
        PolicyRule.model_validate(rule(terms=[" * "]))


def test_an_unknown_direction_is_rejected() -> None:
    with pytest.raises(ValidationError):
        PolicyRule.model_validate(rule(applies_to=["both"]))


def test_a_rule_id_must_be_a_slug() -> None:
    with pytest.raises(ValidationError):
        PolicyRule.model_validate(rule(id="Real Money"))


def test_duplicate_rule_ids_are_rejected() -> None:
    with pytest.raises(ValidationError, match="policy rule id\\(s\\) listed twice: rmt"):
        ContentPolicy.model_validate({"rules": [rule(), rule(terms=["RMT"])]})


def test_a_persona_rule_overrides_the_world_rule_with_its_id() -> None:
    world = World.model_validate({"content_policy": {"rules": [rule()]}})
    persona = NpcPersona.model_validate(
        {
            "kind": "npc",
            "id": "sable",
            "name": "Sable",
            "content_policy": {"rules": [rule(terms=["coin of another realm"])]},
        }
    )
    guard = PolicyGuard(world.content_policy, persona.content_policy)
    assert [r.terms for r in guard.rules] == [["coin of another realm"]]
    assert guard.check("real money?", direction="input", region=None, age_rating=None) is None


def test_a_bad_rule_in_world_yaml_names_its_file_line_and_field(tmp_path: Path) -> None:
    text = "id: w\ncontent_policy:\n  rules:\n    - id: rmt\n      terms: [x]\n      regions: [ZZ]\n      deflection: {en: No.}\n"
    (tmp_path / "world.yaml").write_text(text, encoding="utf-8")
    with pytest.raises(SourceFileError) as caught:
        load_world_file(tmp_path)
    assert caught.value.line == 6
    assert caught.value.field is not None and caught.value.field.startswith("content_policy.rules.0.regions")


def test_a_bad_rule_in_a_persona_file_is_a_persona_error(tmp_path: Path) -> None:
    path = tmp_path / "tam.yaml"
    path.write_text(
        "kind: npc\nid: tam\nname: Tam\ncontent_policy:\n  rules:\n"
        "    - id: x\n      terms: [y]\n      deflection: {es: No.}\n",
        encoding="utf-8",
    )
    with pytest.raises(PersonaError, match='needs an "en" deflection'):
        load_persona(path)


def test_the_demo_world_validates_with_its_policy(demo_world: Path) -> None:
    world = load_world_file(demo_world)
    personas = load_personas(demo_world / "personas", world=world)
    sable = personas["sable"]

    assert {r.id for r in world.content_policy.rules} >= {"real_money_trading", "gore_detail", "gambling"}
    assert isinstance(sable, NpcPersona)
    assert [r.id for r in sable.content_policy.rules] == ["drinking_games"]


def test_the_demo_world_policy_deflects_in_the_players_language(demo_world: Path) -> None:
    world = load_world_file(demo_world)
    sable = load_personas(demo_world / "personas", world=world)["sable"]
    assert isinstance(sable, NpcPersona)
    guard = PolicyGuard(world.content_policy, sable.content_policy)

    hit = guard.check("我想出售账号", direction="input", region="CN", age_rating=None, locale="zh-CN")
    assert hit is not None and hit.rule_id == "real_money_trading" and "朋友" in hit.deflection
    hit = guard.check("fancy a drinking game?", direction="input", region="US", age_rating=15)
    assert hit is not None and hit.rule_id == "drinking_games"
    assert guard.check("fancy a drinking game?", direction="input", region="US", age_rating=21) is None


def test_the_persona_json_schema_describes_the_policy() -> None:
    defs = persona_json_schema()["$defs"]
    assert "content_policy" in defs["NpcPersona"]["properties"]
    assert defs["PolicyRule"]["additionalProperties"] is False
