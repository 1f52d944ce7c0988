"""Rule-based fact extraction: every pattern in every language, questions, negation, limits."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from npc_engine.memory import Fact, extract_facts

KINDS = {"name", "origin", "occupation", "preference", "dislike", "goal", "relation", "promise", "event"}

PATTERNS = [
    # (language, message, kind, fact text)
    ("en", "My name is Kael.", "name", "The player's name is Kael."),
    ("en", "Call me Kael.", "name", "The player's name is Kael."),
    ("en", "I'm Kael.", "name", "The player's name is Kael."),
    ("en", "I'm from Saltmere.", "origin", "The player is from Saltmere."),
    ("en", "I come from the northern isles.", "origin", "The player is from the northern isles."),
    ("en", "I am a hunter.", "occupation", "The player works as a hunter."),
    ("en", "I like fishing.", "preference", "The player likes fishing."),
    ("en", "I love the sea.", "preference", "The player likes the sea."),
    ("en", "I hate the rain.", "dislike", "The player dislikes the rain."),
    ("en", "I can't stand goblins.", "dislike", "The player dislikes goblins."),
    ("en", "I want to see the vault.", "goal", "The player wants to see the vault."),
    ("en", "I'm looking for the old mill.", "goal", "The player is looking for the old mill."),
    ("en", "My sister lives in Saltmere.", "relation", "The player's sister lives in Saltmere."),
    ("en", "I promise I'll bring the herbs.", "promise", "The player promised to bring the herbs."),
    ("en", "I promise to return.", "promise", "The player promised to return."),
    ("en", "I killed the wolf.", "event", "The player killed the wolf."),
    ("es", "Me llamo Kael.", "name", "The player's name is Kael."),
    ("es", "Mi nombre es Kael.", "name", "The player's name is Kael."),
    ("es", "Soy de Saltmere.", "origin", "The player is from Saltmere."),
    ("es", "Vengo de las montañas.", "origin", "The player is from las montañas."),
    ("es", "Soy cazador.", "occupation", "The player works as cazador."),
    ("es", "Me gusta la pesca.", "preference", "The player likes la pesca."),
    ("es", "Odio los lobos.", "dislike", "The player dislikes los lobos."),
    ("es", "Busco la espada perdida.", "goal", "The player is looking for la espada perdida."),
    ("es", "Quiero ir al castillo.", "goal", "The player wants ir al castillo."),
    ("es", "Mi hermano desapareció.", "relation", "The player's brother: desapareció."),
    ("es", "Te prometo que volveré.", "promise", "The player promised: volveré."),
    ("es", "Maté al lobo.", "event", "The player killed al lobo."),
    ("zh", "我叫小明。", "name", "The player's name is 小明."),
    ("zh", "我的名字是小明。", "name", "The player's name is 小明."),
    ("zh", "我来自北京。", "origin", "The player is from 北京."),
    ("zh", "我是猎人。", "occupation", "The player works as 猎人."),
    ("zh", "我喜欢钓鱼。", "preference", "The player likes 钓鱼."),
    ("zh", "我讨厌下雨。", "dislike", "The player dislikes 下雨."),
    ("zh", "我想去城堡。", "goal", "The player wants 去城堡."),
    ("zh", "我在找一把剑。", "goal", "The player is looking for 一把剑."),
    ("zh", "我哥哥失踪了。", "relation", "The player's older brother: 失踪了."),
    ("zh", "我保证会回来。", "promise", "The player promised: 会回来."),
    ("zh", "我杀了狼。", "event", "The player killed 狼."),
    ("hi", "मेरा नाम काएल है।", "name", "The player's name is काएल."),
    ("hi", "मैं दिल्ली से हूँ।", "origin", "The player is from दिल्ली."),
    ("hi", "मैं एक शिकारी हूँ।", "occupation", "The player works as शिकारी."),
    ("hi", "मुझे मछली पकड़ना पसंद है।", "preference", "The player likes मछली पकड़ना."),
    ("hi", "मुझे बारिश से नफ़रत है।", "dislike", "The player dislikes बारिश."),
    ("hi", "मैं किले में जाना चाहता हूँ।", "goal", "The player wants किले में जाना."),
    ("hi", "मेरा भाई लापता है।", "relation", "The player's brother: लापता है."),
    ("hi", "मैं वादा करता हूँ कि मैं लौटूंगा।", "promise", "The player promised: मैं लौटूंगा."),
    ("hi", "mera naam Kael hai", "name", "The player's name is Kael."),
    ("hi", "main Delhi se hoon", "origin", "The player is from Delhi."),
    ("hi", "mujhe machhli pasand hai", "preference", "The player likes machhli."),
]


@pytest.mark.parametrize(
    ("lang", "message", "kind", "text"), PATTERNS, ids=[f"{p[0]}-{p[2]}-{i}" for i, p in enumerate(PATTERNS)]
)
def test_each_pattern_gives_its_fact(lang: str, message: str, kind: str, text: str) -> None:
    facts = extract_facts(message, locale=lang)
    assert [(f.kind, f.text) for f in facts if f.kind == kind] == [(kind, text)]


@pytest.mark.parametrize(
    "message",
    ["Do you like fishing?", "do you like fishing", "Are you from Saltmere?", "¿Te gusta la pesca?",
     "¿Eres cazador?", "你喜欢钓鱼吗？", "你来自北京吗", "क्या तुम्हें मछली पसंद है?", "kya tumhe machhli pasand hai"],
)  # fmt: skip
def test_questions_give_no_facts(message: str) -> None:
    assert extract_facts(message) == []


@pytest.mark.parametrize(
    ("message", "text"),
    [("I don't like fishing.", "The player dislikes fishing."),
     ("I do not enjoy the cold.", "The player dislikes the cold."),
     ("No me gusta la lluvia.", "The player dislikes la lluvia."),
     ("我不喜欢下雨。", "The player dislikes 下雨."),
     ("मुझे बारिश पसंद नहीं है।", "The player dislikes बारिश."),
     ("mujhe baarish pasand nahi hai", "The player dislikes baarish.")],
)  # fmt: skip
def test_a_negated_like_is_a_dislike_not_a_preference(message: str, text: str) -> None:
    facts = extract_facts(message)
    assert [f.text for f in facts] == [text]
    assert facts[0].kind == "dislike"


@pytest.mark.parametrize(
    "message", ["I don't hate the rain.", "I'm not from here.", "No quiero ir.", "मैं वहाँ नहीं जाना चाहता हूँ।"]
)
def test_a_negated_statement_gives_no_fact(message: str) -> None:
    assert extract_facts(message) == []


@pytest.mark.parametrize(
    "message", ["I'm tired.", "I'M TIRED", "I'm sorry", "I'm Going home.", "I am a bit tired.", "Soy Feliz."]
)
def test_a_state_after_im_is_not_a_name(message: str) -> None:
    assert [f for f in extract_facts(message) if f.kind == "name"] == []


def test_a_capitalised_word_ending_the_clause_after_im_is_a_name() -> None:
    assert extract_facts("Hello, I'm Kael Storm!")[0].text == "The player's name is Kael Storm."


def test_call_me_needs_a_capitalised_name() -> None:
    assert extract_facts("call me back later") == []


def test_my_name_is_takes_a_lowercase_name_too() -> None:
    assert extract_facts("my name is kael")[0].text == "The player's name is kael."


def test_my_name_is_not_followed_by_a_negation_is_no_name() -> None:
    assert extract_facts("My name is not important.") == []


def test_a_newer_name_supersedes_the_older_in_one_message() -> None:
    facts = extract_facts("My name is Kael. Actually, call me Tam.")
    assert [(f.key, f.text) for f in facts] == [("name", "The player's name is Tam.")]


def test_a_dislike_supersedes_a_like_of_the_same_thing() -> None:
    facts = extract_facts("I like fishing. Well, I hate fishing.")
    assert [f.text for f in facts] == ["The player dislikes fishing."]
    assert facts[0].key == "taste:fishing"


@pytest.mark.parametrize(
    ("message", "key"),
    [("My name is Kael.", "name"), ("I'm from Saltmere.", "origin"), ("I work as a smith.", "occupation"),
     ("I want to see the vault.", None), ("My brother is Tam.", None), ("I promise to return.", None),
     ("I found a ring.", None)],
)  # fmt: skip
def test_single_valued_kinds_have_a_key_and_the_rest_accumulate(message: str, key: str | None) -> None:
    assert extract_facts(message)[0].key == key


def test_importance_orders_name_over_promise_over_preference() -> None:
    by_kind = {
        f.kind: f.importance for f in extract_facts("My name is Kael. I promise to return. I like bread.")
    }
    assert by_kind["name"] > by_kind["promise"] > by_kind["preference"]
    assert all(0.0 <= v <= 1.0 for v in by_kind.values())


def test_first_person_words_in_english_spans_become_third_person() -> None:
    facts = extract_facts("I'm looking for my brother in my old village.")
    assert facts[0].text == "The player is looking for their brother in their old village."


def test_a_mentioned_relation_without_a_predicate_is_still_remembered() -> None:
    assert "The player mentioned their brother." in [
        f.text for f in extract_facts("I'm looking for my brother.")
    ]


def test_clauses_joined_by_and_i_give_a_fact_each() -> None:
    facts = extract_facts("I'm from Saltmere and I like fishing, but I hate the cold")
    assert [f.text for f in facts] == [
        "The player is from Saltmere.",
        "The player likes fishing.",
        "The player dislikes the cold.",
    ]


def test_a_span_stops_at_clause_punctuation() -> None:
    assert extract_facts("I like fishing, hunting and ale.")[0].text == "The player likes fishing."


def test_a_long_span_is_cut_to_about_sixty_characters() -> None:
    fact = extract_facts("I like " + "very " * 100 + "long walks")[0]
    assert len(fact.text) <= len("The player likes .") + 60


def test_a_long_message_never_gives_a_fact_over_160_characters() -> None:
    message = ("My name is Kael. I like " + "x" * 5000 + ". ") * 20
    facts = extract_facts(message)
    assert facts
    assert all(len(f.text) <= 160 for f in facts)


def test_control_and_format_characters_are_stripped() -> None:
    assert extract_facts("I like fish\x00ing\u202e\x1b now")[0].text == "The player likes fishing now."


def test_brackets_quotes_and_markup_characters_are_removed_from_spans() -> None:
    assert extract_facts("I like `ale` and {mead} <lots>")[0].text == "The player likes ale and mead lots."


def test_locale_narrows_the_rules_to_that_language_plus_english() -> None:
    assert extract_facts("我喜欢钓鱼", locale="es") == []
    assert (
        extract_facts("Me gusta la pesca. I like ale.", locale="es-MX")[0].text
        == "The player likes la pesca."
    )
    assert len(extract_facts("Me gusta la pesca. I like ale.", locale="es-MX")) == 2


def test_the_same_text_gives_the_same_facts() -> None:
    message = "Me llamo Kael, soy de Saltmere y busco a mi hermano. I promise to help."
    assert extract_facts(message) == extract_facts(message)


def test_plain_talk_gives_no_facts() -> None:
    assert extract_facts("The weather is mild and the road is dry.") == []
    assert extract_facts("") == []


@settings(database=None, max_examples=300, deadline=None)
@given(text=st.text(max_size=600))
def test_extract_facts_never_raises_and_stays_bounded(text: str) -> None:
    facts = extract_facts(text)
    assert all(isinstance(f, Fact) for f in facts)
    assert all(len(f.text) <= 160 and f.kind in KINDS and 0.0 <= f.importance <= 1.0 for f in facts)


@settings(database=None, max_examples=200, deadline=None)
@given(
    text=st.lists(
        st.sampled_from(
            ["my name is ", "I like ", "me gusta ", "我喜欢", "मुझे ", " पसंद है", "I'm ", "?", ". ", ", "]
        )
        | st.text(max_size=20),
        max_size=12,
    ).map("".join)
)
def test_extract_facts_never_raises_on_mixed_trigger_fragments(text: str) -> None:
    for fact in extract_facts(text):
        assert len(fact.text) <= 160
