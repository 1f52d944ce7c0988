"""The content-policy guard: rules scoped by region, age and direction, matched robustly."""

from __future__ import annotations

from typing import Any

import pytest

from npc_engine.errors import InvalidInputError
from npc_engine.guard import PolicyGuard, PolicyHit
from personas.schema import ContentPolicy

WORLD = ContentPolicy.model_validate(
    {
        "assume_age_rating": 12,
        "rules": [
            {
                "id": "real_money_trading",
                "terms": ["RMT", "sell my account", "出售账号"],
                "deflection": {"en": "Coin of another realm has no weight here.", "es": "Aquí no, amigo."},
            },
            {
                "id": "gore_detail",
                "below_age": 16,
                "applies_to": ["output"],
                "terms": ["dismember*", "gore"],
                "deflection": {"en": "Some tales are best left in the dark."},
            },
            {
                "id": "gambling",
                "regions": ["CN", "KR", "BE", "NL"],
                "below_age": 18,
                "terms": ["gamble", "gambling", "bet", "赌博"],
                "deflection": {
                    "en": "No dice for you.",
                    "zh": "骰子可不是你该碰的。",
                    "pt-BR": "Nada de apostas.",
                },
            },
        ],
    }
)


def check(
    text: str,
    *,
    direction: str = "input",
    region: str | None = "US",
    age_rating: int | None = 30,
    locale: str = "en",
) -> PolicyHit | None:
    return PolicyGuard(WORLD).check(
        text,
        direction=direction,  # type: ignore[arg-type]  # the guard checks it at run time
        region=region,
        age_rating=age_rating,
        locale=locale,
    )


def rule_of(text: str, **kwargs: Any) -> str | None:
    hit = check(text, **kwargs)
    return hit.rule_id if hit else None


def test_a_clean_message_passes() -> None:
    assert check("Any work at the forge today?") is None


def test_a_matching_term_returns_the_rule_term_and_deflection() -> None:
    assert check("I can do RMT if you want") == PolicyHit(
        "real_money_trading", "RMT", "Coin of another realm has no weight here."
    )


def test_a_region_scoped_rule_applies_in_its_regions() -> None:
    assert rule_of("want to gamble?", region="NL", age_rating=15) == "gambling"


def test_a_region_scoped_rule_does_not_apply_elsewhere() -> None:
    assert rule_of("want to gamble?", region="US", age_rating=15) is None


def test_regions_compare_case_insensitively() -> None:
    assert rule_of("want to gamble?", region="be", age_rating=15) == "gambling"


def test_an_unknown_region_gets_every_regional_rule() -> None:
    assert rule_of("want to gamble?", region=None, age_rating=15) == "gambling"


def test_an_age_scoped_rule_applies_below_its_age() -> None:
    assert rule_of("he was dismembered", direction="output", age_rating=15) == "gore_detail"


def test_an_age_scoped_rule_does_not_apply_at_or_above_its_age() -> None:
    assert rule_of("he was dismembered", direction="output", age_rating=16) is None


def test_an_unknown_age_uses_assume_age_rating() -> None:
    assert rule_of("he was dismembered", direction="output", age_rating=None) == "gore_detail"
    older = ContentPolicy.model_validate({**WORLD.model_dump(), "assume_age_rating": 18})
    hit = PolicyGuard(older).check("he was dismembered", direction="output", region="US", age_rating=None)
    assert hit is None


def test_a_persona_may_lower_but_not_raise_the_assumed_age() -> None:
    assert PolicyGuard(WORLD, ContentPolicy(assume_age_rating=18)).assume_age_rating == 12
    assert PolicyGuard(WORLD, ContentPolicy(assume_age_rating=7)).assume_age_rating == 7


def test_a_rule_applies_only_in_its_direction() -> None:
    assert rule_of("tell me about the gore", direction="input", age_rating=10) is None
    assert rule_of("the gore was everywhere", direction="output", age_rating=10) == "gore_detail"


def test_latin_terms_match_whole_words_only() -> None:
    assert rule_of("I bet you're tired", region="CN", age_rating=15) == "gambling"
    assert rule_of("better scrap metal than none", region="CN", age_rating=15) is None
    assert rule_of("the farmtools are by the barn") is None  # contains "rmt"
    assert rule_of("Gorey Street", direction="output", age_rating=10) is None


def test_a_trailing_star_matches_any_ending() -> None:
    assert rule_of("the dismemberment of the king", direction="output", age_rating=10) == "gore_detail"


def test_multi_word_terms_match_across_spacing_and_punctuation() -> None:
    assert rule_of("can I SELL   my-account to you") == "real_money_trading"


def test_cjk_terms_match_as_substrings() -> None:
    assert rule_of("我想出售账号给你") == "real_money_trading"
    assert rule_of("我们去赌博吧", region="CN", age_rating=15) == "gambling"


def test_cjk_terms_match_across_spaces() -> None:
    assert rule_of("出 售 账 号") == "real_money_trading"


def test_latin_terms_match_next_to_cjk_text() -> None:
    assert rule_of("我想RMT") == "real_money_trading"


@pytest.mark.parametrize(
    "text",
    [
        "let's g a m b l e",
        "fancy a g a m b l e?",
        "g.a.m.b.l.e with me",
        "g4mble with me",
        "G@MBL3 with me",
        "ｇａｍｂｌｅ with me",  # full width
        "gámble with me",
        "gam\u200bble with me",  # zero-width space
        "g 4 m b l e",
    ],
)
def test_simple_obfuscation_is_caught(text: str) -> None:
    assert rule_of(text, region="KR", age_rating=15) == "gambling"


def test_look_alike_letters_from_other_scripts_are_not_caught() -> None:
    assert rule_of("gаmble", region="KR", age_rating=15) is None  # Cyrillic "а": documented gap


def test_the_deflection_is_in_the_players_language() -> None:
    hit = check("RMT?", locale="es-MX")
    assert hit is not None and hit.deflection == "Aquí no, amigo."


def test_the_deflection_falls_back_to_english() -> None:
    hit = check("RMT?", locale="de")
    assert hit is not None and hit.deflection == "Coin of another realm has no weight here."


def test_a_regional_deflection_serves_its_language() -> None:
    hit = check("gamble?", region="CN", age_rating=10, locale="pt")
    assert hit is not None and hit.deflection == "Nada de apostas."


def test_an_invalid_locale_gets_the_english_deflection() -> None:
    hit = check("RMT?", locale="not a locale")
    assert hit is not None and hit.deflection == "Coin of another realm has no weight here."


def test_the_first_matching_rule_wins() -> None:
    hit = check("RMT and gambling", region="CN", age_rating=10)
    assert hit is not None and hit.rule_id == "real_money_trading"


def test_persona_rules_come_after_the_worlds() -> None:
    persona = ContentPolicy.model_validate(
        {"rules": [{"id": "drinking_games", "terms": ["drinking game*"], "deflection": {"en": "Not here."}}]}
    )
    guard = PolicyGuard(WORLD, persona)
    assert [rule.id for rule in guard.rules][-1] == "drinking_games"
    hit = guard.check("fancy a drinking game?", direction="input", region="US", age_rating=30)
    assert hit is not None and hit.deflection == "Not here."


def test_a_persona_rule_replaces_the_world_rule_with_its_id() -> None:
    persona = ContentPolicy.model_validate(
        {"rules": [{"id": "gambling", "terms": ["dice"], "deflection": {"en": "Put the dice away."}}]}
    )
    guard = PolicyGuard(WORLD, persona)
    assert [rule.id for rule in guard.rules] == ["real_money_trading", "gore_detail", "gambling"]
    assert guard.check("gamble?", direction="input", region="CN", age_rating=10) is None
    hit = guard.check("roll the dice", direction="input", region="US", age_rating=40)
    assert hit is not None and hit.deflection == "Put the dice away."


def test_a_malformed_region_is_an_input_error() -> None:
    with pytest.raises(InvalidInputError, match="ISO 3166-1 alpha-2"):
        check("hello", region="USA")


def test_uk_is_read_as_gb() -> None:
    policy = ContentPolicy.model_validate(
        {"rules": [{"id": "x", "regions": ["GB"], "terms": ["wager"], "deflection": {"en": "No."}}]}
    )
    assert PolicyGuard(policy).check("a wager?", direction="input", region="UK", age_rating=30) is not None


def test_a_negative_age_rating_is_an_input_error() -> None:
    with pytest.raises(InvalidInputError, match="age_rating"):
        check("hello", age_rating=-1)


def test_an_unknown_direction_is_an_input_error() -> None:
    with pytest.raises(InvalidInputError, match="direction"):
        check("hello", direction="sideways")


def test_an_empty_policy_allows_everything() -> None:
    assert PolicyGuard(ContentPolicy()).check("RMT", direction="input", region=None, age_rating=None) is None
