from __future__ import annotations

import pytest

from npc_engine.affect import CATEGORY_DELTAS, appraise

CASES = [
    # (language, message, category)
    ("en", "You are a worthless idiot.", "insult"),
    ("en", "Thank you, that is fine work!", "praise"),
    ("en", "Hand it over or I'll kill you.", "threat"),
    ("en", "I brought you a gift from the market.", "gift"),
    ("en", "I'm sorry about yesterday.", "apology"),
    ("en", "Can you help me find my brother?", "help_request"),
    ("es", "Eres un idiota.", "insult"),
    ("es", "¡Muchas gracias, buen trabajo!", "praise"),
    ("es", "Te voy a matar.", "threat"),
    ("es", "Toma esto, es un regalo.", "gift"),
    ("es", "Lo siento mucho.", "apology"),
    ("es", "Necesito tu ayuda.", "help_request"),
    ("zh", "你这个笨蛋！", "insult"),
    ("zh", "谢谢你，干得好！", "praise"),
    ("zh", "我要杀了你。", "threat"),
    ("zh", "这是送给你的礼物。", "gift"),
    ("zh", "对不起，是我的错。", "apology"),
    ("zh", "请帮帮我。", "help_request"),
    ("hi", "तुम बेवकूफ़ हो।", "insult"),
    ("hi", "बहुत धन्यवाद, शानदार काम!", "praise"),
    ("hi", "मैं तुम्हें मार डालूँगा।", "threat"),
    ("hi", "यह तोहफ़ा आपके लिए है।", "gift"),
    ("hi", "मुझे माफ़ कीजिए।", "apology"),
    ("hi", "मेरी मदद कीजिए।", "help_request"),
]

NEUTRAL = [
    ("en", "The weather is mild today and the road is dry."),
    ("es", "El camino al mercado es largo."),
    ("zh", "今天的天气很好。"),
    ("hi", "आज मौसम साफ़ है।"),
]


@pytest.mark.parametrize(("lang", "message", "category"), CASES)
def test_appraisal_detects_each_category_in_each_language(lang: str, message: str, category: str) -> None:
    assert appraise(message).matched == (category,)
    assert appraise(message, locale=lang).matched == (category,)


@pytest.mark.parametrize(("lang", "message"), NEUTRAL)
def test_a_neutral_sentence_matches_nothing_and_changes_nothing(lang: str, message: str) -> None:
    result = appraise(message, locale=lang)
    assert (result.matched, dict(result.emotion), dict(result.relationship)) == ((), {}, {})


def test_an_insult_carries_the_insult_deltas() -> None:
    result = appraise("you fool")
    emotion, relationship = CATEGORY_DELTAS["insult"]
    assert (dict(result.emotion), dict(result.relationship)) == (emotion, relationship)


def test_appraisal_is_stamped_at_time_zero_for_the_caller_to_set() -> None:
    assert appraise("thanks").at == 0.0


def test_a_category_counts_once_however_often_it_appears() -> None:
    assert appraise("idiot, fool, moron!") == appraise("idiot")


def test_several_categories_sum_their_deltas() -> None:
    result = appraise("Sorry, you idiot.")
    assert result.matched == ("insult", "apology")
    assert result.emotion["anger"] == pytest.approx(0.3 - 0.15)


@pytest.mark.parametrize(
    "message",
    ["You are not an idiot.", "You are no fool.", "No eres un idiota.", "你不是笨蛋。", "तुम बेवकूफ़ नहीं हो।"],
)
def test_a_negated_insult_is_not_an_insult(message: str) -> None:
    assert "insult" not in appraise(message).matched


@pytest.mark.parametrize("message", ["Not bad, lad.", "No está mal.", "不错！", "बुरा नहीं है।"])
def test_not_bad_is_praise(message: str) -> None:
    assert appraise(message).matched == ("praise",)


def test_a_negated_threat_is_not_a_threat() -> None:
    assert appraise("I won't hurt you.").matched == ()


def test_negation_does_not_reach_across_a_comma() -> None:
    assert appraise("No, thank you.").matched == ("praise",)


def test_matching_is_on_word_boundaries_in_latin_scripts() -> None:
    assert appraise("I will send you the foolscap.").matched == ()


def test_matching_ignores_case_and_spanish_accents() -> None:
    assert appraise("ERES UN ESTUPIDO").matched == ("insult",)


def test_romanised_hindi_is_understood() -> None:
    assert appraise("shukriya dost", locale="hi").matched == ("praise",)


def test_a_locale_narrows_matching_to_that_language_and_english() -> None:
    assert appraise("谢谢", locale="es").matched == ()
    assert appraise("thanks", locale="es-MX").matched == ("praise",)
