"""Escalation triggers: requests for a person, sensitive topics, sentiment, repeated failure."""

from __future__ import annotations

import re

import pytest

from npc_engine.errors import InvalidInputError
from npc_engine.support.sentiment import (
    NEGATIVE_SENTIMENT_THRESHOLD,
    SEVERE_SENTIMENT,
    PastExchange,
    assess_sentiment,
    count_failed_answers,
    negative_sentiment,
    repeated_failure,
    says_not_resolved,
)
from npc_engine.support.triggers import (
    NEXT_STEPS,
    REASON_ORDER,
    EscalationReason,
    Priority,
    check_triggers,
    detect_human_request,
    find_human_request,
    match_sensitive_topic,
    match_sensitive_topics,
    priority_for,
    what_happens_next,
)
from personas.loader import load_persona
from personas.schema import SupportPersona
from tests.conftest import DEMO_WORLD

R = EscalationReason
PERSONA = SupportPersona.model_validate(
    {
        "kind": "support",
        "id": "aria",
        "name": "Aria",
        "sensitive_topics": [
            {"name": "payments", "keywords": ["charged twice", "credit card", "billing", "重复扣费"]},
            {"name": "refunds", "keywords": ["refund", "money back", "reembolso", "退款"]},
            {"name": "bans", "keywords": ["banned", "unban", "封号"]},
            {"name": "account_security", "keywords": ["hacked", "stolen account", "被盗", "账号被黑"]},
            {"name": "minors", "keywords": ["my child", "my son", "underage", "未成年"]},
        ],
        "escalation": {
            "min_confidence": 0.55,
            "escalate_on_negative_sentiment": True,
            "max_failed_answers": 2,
            "human_request_phrases": ["real person", "summon the keeper", "叫店长"],
        },
    }
)
LOCALES = ("en", "es", "zh", "hi", "fr", "de", "pt")


def persona_with(**escalation: object) -> SupportPersona:
    data = PERSONA.model_dump()
    data["escalation"].update(escalation)
    return SupportPersona.model_validate(data)


# --- requests for a person ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("Can I talk to a human?", "en"),
        ("I want to speak to a real person please", "en"),
        ("can I speak to support staff", "en"),
        ("Let me talk to someone", "en"),
        ("connect me with one of your agents", "en"),
        ("I need a human agent, no bots", "en"),
        ("Please escalate this", "en"),
        ("Quiero hablar con una persona", "es"),
        ("¿Puedo hablar con un agente?", "es"),
        ("quero falar com um atendente", "pt"),
        ("Je voudrais parler à un humain", "fr"),
        ("je veux parler à un conseiller", "fr"),
        ("Ich möchte mit einem Menschen sprechen", "de"),
        ("Kann ich mit einem Mitarbeiter sprechen?", "de"),
        ("voglio parlare con un operatore", "it"),
        ("Хочу поговорить с человеком", "ru"),
        ("соедините с оператором", "ru"),
        ("转人工", "zh"),
        ("我要人工客服", "zh"),
        ("オペレーターと話したい", "ja"),
        ("상담원 연결해 주세요", "ko"),
        ("मुझे किसी इंसान से बात करनी है", "hi"),
        ("kisi insaan se baat karni hai", "hi"),
    ],
)
def test_a_request_for_a_person_is_recognised_in_each_language(text: str, language: str) -> None:
    request = find_human_request(text)
    assert request is not None
    assert (request.source, request.language) == ("builtin", language)


@pytest.mark.parametrize("text", ["human please", "Agent!", "No bots. Human please.", "OPERATOR"])
def test_a_clause_that_only_names_a_person_is_a_request(text: str) -> None:
    assert detect_human_request(text)


@pytest.mark.parametrize(
    "text",
    [
        "I don't need a human",
        "no need to talk to a human, thanks",
        "I do not want to speak to an agent",
        "不用转人工",
        "不要转人工了",
        "no quiero hablar con una persona",
        "je ne veux pas parler à un humain",
        "Ich möchte nicht mit einem Menschen sprechen",
        "オペレーターと話したくない",
        "insaan se baat nahi karni",
        "इंसान से बात नहीं करनी",
    ],
)
def test_a_negated_request_is_not_a_request(text: str) -> None:
    assert not detect_human_request(text)


def test_a_later_clause_can_ask_for_a_person_after_a_negated_one() -> None:
    assert detect_human_request("I don't want a bot, I want a human")


@pytest.mark.parametrize(
    "text",
    ["are you human?", "Are you a real person?", "am I talking to a human?", "Is this a real person?"],
)
def test_an_identity_question_is_not_a_request(text: str) -> None:
    assert not detect_human_request(text, extra_phrases=PERSONA.escalation.human_request_phrases)


@pytest.mark.parametrize(
    "text",
    [
        "Tell me about the human race in lore",
        "I want to talk to the human king",
        "How do I talk to someone in the guild?",
        "What is 人工智能?",
        "Where's the blacksmith?",
        "My agent skin is bugged",
        "",
    ],
)
def test_text_that_does_not_ask_for_a_person_is_not_a_request(text: str) -> None:
    assert not detect_human_request(text)


def test_persona_phrases_are_requests_and_named_as_evidence() -> None:
    request = find_human_request("Please, SUMMON   the keeper!", extra_phrases=["summon the keeper"])
    assert request is not None
    assert request.source == "persona"
    assert request.evidence == "persona phrase 'summon the keeper'"


def test_persona_phrases_in_chinese_match_as_substrings() -> None:
    assert detect_human_request("我要叫 店长！", extra_phrases=["叫店长"])


@pytest.mark.parametrize(
    "text",
    [
        "ＴＡＬＫ ＴＯ Ａ ＨＵＭＡＮ",
        "Talk to a HUMAN!!!",
        "talk-to-a-human",
        "hablar con una PERSONA",
        "parler a un humain",
    ],
)
def test_request_matching_ignores_case_width_accents_and_punctuation(text: str) -> None:
    assert detect_human_request(text)


# --- sentiment ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "This is useless",
        "this is ridiculous",
        "worst support ever",
        "this game is a scam",
        "I'm so angry",
        "I am furious",
        "este juego es una estafa",
        "c'est une arnaque",
        "das ist Betrug",
        "垃圾",
        "太差了",
        "气死了",
        "बकवास गेम है",
        "wtf!!!",
        "I'll find you and hurt you",
    ],
)
def test_frustrated_messages_reach_the_negative_threshold(text: str) -> None:
    assert negative_sentiment(text) >= NEGATIVE_SENTIMENT_THRESHOLD


@pytest.mark.parametrize(
    "text",
    [
        "How do I reset my password?",
        "THANK YOU SO MUCH!!!",
        "I'm not angry, just confused",
        "this is not a scam, right?",
        "Can I talk to a human?",
        "the mist over the valley",
        "¿Cómo consigo la espada?",
        "这个任务怎么做？",
        "WHY IS MY ACCOUNT BANNED",
    ],
)
def test_calm_or_merely_loud_messages_stay_below_the_negative_threshold(text: str) -> None:
    assert negative_sentiment(text) < NEGATIVE_SENTIMENT_THRESHOLD


def test_more_cues_score_higher_and_the_score_stays_within_zero_and_one() -> None:
    one = assess_sentiment("this is a scam")
    many = assess_sentiment("YOU IDIOT, THIS SCAM IS THE WORST, WTF!!! I'll kill you")
    assert 0.0 < one.score < many.score <= 1.0
    assert many.cues == ("threat", "insult", "frustration", "profanity", "shouting", "exclamations")


def test_shouting_makes_a_negative_message_more_negative() -> None:
    assert negative_sentiment("THIS GAME IS A SCAM") > negative_sentiment("this game is a scam")


def test_a_threat_is_severe() -> None:
    assert negative_sentiment("I'll find you and hurt you") >= SEVERE_SENTIMENT


# --- answers that did not help -----------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "that didn't help",
        "Still not working!",
        "it didn't work",
        "no funciona",
        "sigue sin funcionar",
        "ça ne marche toujours pas",
        "funktioniert immer noch nicht",
        "还是不行",
        "没用",
        "अभी भी काम नहीं कर रहा",
    ],
)
def test_a_follow_up_saying_the_answer_did_not_help_is_recognised(text: str) -> None:
    assert says_not_resolved(text)


@pytest.mark.parametrize(
    "text", ["Thanks, that fixed it", "ok, and how do I craft a sword?", "gracias", "谢谢"]
)
def test_a_neutral_follow_up_is_not_a_failure_signal(text: str) -> None:
    assert not says_not_resolved(text)


def test_failed_answers_are_counted_in_a_row() -> None:
    history = [
        PastExchange("how do I log in?", answered=True),
        PastExchange("still not working", answered=True),
    ]
    assert count_failed_answers(history, "that didn't help") == 2


def test_an_answer_the_player_does_not_complain_about_resets_the_count() -> None:
    history = [
        PastExchange("how do I log in?", answered=True),
        PastExchange("still not working", answered=True),
        PastExchange("ok it works now. where is the forge?", answered=True),
    ]
    assert count_failed_answers(history, "thanks!") == 0


def test_an_escalation_resets_the_count() -> None:
    history = [PastExchange("login?", answered=False), PastExchange("hello?", answered=False, escalated=True)]
    assert count_failed_answers(history, "still not working") == 0


def test_a_turn_the_agent_could_not_answer_counts_as_failed() -> None:
    assert count_failed_answers([PastExchange("what is the moon code?", answered=False)], "hm") == 1


def test_a_first_message_saying_something_does_not_work_is_not_a_failed_answer() -> None:
    assert count_failed_answers([], "my game doesn't work") == 0


def test_repeated_failure_fires_at_the_maximum_and_zero_turns_it_off() -> None:
    history = [PastExchange("login?", answered=True), PastExchange("still broken", answered=True)]
    assert repeated_failure(history, "didn't work", max_failed=2)
    assert not repeated_failure(history, "didn't work", max_failed=3)
    assert not repeated_failure(history, "didn't work", max_failed=0)


# --- sensitive topics --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "topic"),
    [
        ("I was charged twice for gems", "payments"),
        ("Can I get a refund?", "refunds"),
        ("quiero un reembolso", "refunds"),
        ("我要退款", "refunds"),
        ("why am I BANNED", "bans"),
        ("我被封号了", "bans"),
        ("my account was hacked", "account_security"),
        ("我的账号被盗了", "account_security"),
        ("my son bought 500 gems", "minors"),
        ("我还未成年", "minors"),
    ],
)
def test_a_sensitive_topic_is_matched_by_its_keywords(text: str, topic: str) -> None:
    assert match_sensitive_topic(text, PERSONA.sensitive_topics) == topic


@pytest.mark.parametrize(
    ("text", "topic"),
    [("Refunds?", "refunds"), ("I want it refunded", "refunds"), ("a hacker got in", "account_security")],
)
def test_topic_keywords_tolerate_plurals_and_tenses(text: str, topic: str) -> None:
    assert match_sensitive_topic(text, PERSONA.sensitive_topics) == topic


@pytest.mark.parametrize(
    "text", ["the billboard in town", "my childhood village", "the unbanished spirits", ""]
)
def test_topic_keywords_match_whole_words_only(text: str) -> None:
    assert match_sensitive_topic(text, PERSONA.sensitive_topics) is None


def test_topics_are_listed_by_first_mention() -> None:
    text = "My son used my credit card and now I want a refund"
    assert match_sensitive_topics(text, PERSONA.sensitive_topics) == ("minors", "payments", "refunds")
    assert match_sensitive_topic(text, PERSONA.sensitive_topics) == "minors"


def test_a_negated_topic_mention_still_counts() -> None:
    assert match_sensitive_topic("I don't think I was hacked", PERSONA.sensitive_topics) == "account_security"


# --- the check ---------------------------------------------------------------------------------


def test_a_plain_question_fires_no_trigger() -> None:
    assert check_triggers("How do I change my character's hair colour?", PERSONA) is None


@pytest.mark.parametrize(
    ("text", "failures", "reason"),
    [
        ("I want to talk to a human", 0, R.HUMAN_REQUESTED),
        ("I was charged twice", 0, R.SENSITIVE_TOPIC),
        ("this game is a scam", 0, R.NEGATIVE_SENTIMENT),
        ("that didn't help", 2, R.REPEATED_FAILURE),
    ],
)
def test_each_trigger_fires_with_its_reason(text: str, failures: int, reason: EscalationReason) -> None:
    hit = check_triggers(text, PERSONA, failures=failures)
    assert hit is not None
    assert hit.reason is reason


def test_a_request_for_a_person_outranks_a_sensitive_topic() -> None:
    hit = check_triggers("I need a refund, let me talk to a human", PERSONA)
    assert hit is not None
    assert (hit.reason, hit.topic) == (R.HUMAN_REQUESTED, "refunds")


def test_a_sensitive_topic_outranks_negative_sentiment() -> None:
    hit = check_triggers("this is a scam, I was charged twice", PERSONA)
    assert hit is not None
    assert (hit.reason, hit.evidence) == (R.SENSITIVE_TOPIC, "payments")


def test_negative_sentiment_outranks_repeated_failure() -> None:
    hit = check_triggers("this is ridiculous, still not working", PERSONA, failures=5)
    assert hit is not None
    assert hit.reason is R.NEGATIVE_SENTIMENT


def test_the_reason_order_lists_every_reason_once_with_policy_first() -> None:
    assert sorted(REASON_ORDER) == sorted(EscalationReason)
    assert REASON_ORDER[:5] == (
        R.POLICY,
        R.HUMAN_REQUESTED,
        R.SENSITIVE_TOPIC,
        R.NEGATIVE_SENTIMENT,
        R.REPEATED_FAILURE,
    )


def test_negative_sentiment_does_not_escalate_when_the_persona_turns_it_off() -> None:
    assert check_triggers("this game is a scam", persona_with(escalate_on_negative_sentiment=False)) is None


def test_repeated_failure_does_not_escalate_when_the_maximum_is_zero() -> None:
    assert check_triggers("still not working", persona_with(max_failed_answers=0), failures=9) is None


def test_evidence_names_what_fired_never_the_players_words() -> None:
    hits = [
        check_triggers("quiero hablar con un agente, me llamo Ana", PERSONA),
        check_triggers("you idiot, this is a scam", PERSONA),
        check_triggers("no", PERSONA, failures=3),
    ]
    assert [(hit.reason, hit.evidence) for hit in hits if hit] == [
        (R.HUMAN_REQUESTED, "builtin:es"),
        (R.NEGATIVE_SENTIMENT, "insult,frustration"),
        (R.REPEATED_FAILURE, "3 failed answers"),
    ]


def test_the_most_urgent_topic_mentioned_sets_topic_and_priority() -> None:
    hit = check_triggers("I want a refund because my account was hacked", PERSONA)
    assert hit is not None
    assert (hit.reason, hit.topic, hit.priority) == (R.SENSITIVE_TOPIC, "account_security", Priority.URGENT)


def test_a_request_for_a_person_about_a_hacked_account_is_urgent() -> None:
    hit = check_triggers("my account was hacked, talk to a human now", PERSONA)
    assert hit is not None
    assert (hit.reason, hit.priority) == (R.HUMAN_REQUESTED, Priority.URGENT)


def test_the_demo_support_persona_escalates_its_sensitive_topics_and_phrases() -> None:
    aria = load_persona(DEMO_WORLD / "personas" / "aria.yaml")
    assert isinstance(aria, SupportPersona)
    topic_hit = check_triggers("我的账号被盗了", aria)
    phrase_hit = check_triggers("hablar con una persona", aria)
    assert topic_hit is not None and topic_hit.reason is R.SENSITIVE_TOPIC
    assert phrase_hit is not None and phrase_hit.reason is R.HUMAN_REQUESTED


# --- priority ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("reason", "topic", "priority"),
    [
        (R.HUMAN_REQUESTED, None, Priority.NORMAL),
        (R.NEGATIVE_SENTIMENT, None, Priority.NORMAL),
        (R.REPEATED_FAILURE, None, Priority.NORMAL),
        (R.NO_KNOWLEDGE, None, Priority.LOW),
        (R.LOW_CONFIDENCE, None, Priority.LOW),
        (R.POLICY, None, Priority.HIGH),
        (R.SENSITIVE_TOPIC, "account_security", Priority.URGENT),
        (R.SENSITIVE_TOPIC, "Account Security", Priority.URGENT),
        (R.SENSITIVE_TOPIC, "minors", Priority.URGENT),
        (R.SENSITIVE_TOPIC, "payments", Priority.HIGH),
        (R.SENSITIVE_TOPIC, "refunds", Priority.NORMAL),
        (R.SENSITIVE_TOPIC, "bans", Priority.NORMAL),
        (R.SENSITIVE_TOPIC, "guild_drama", Priority.NORMAL),
        (R.LOW_CONFIDENCE, "payments", Priority.HIGH),
    ],
)
def test_priority_follows_the_table(reason: EscalationReason, topic: str | None, priority: Priority) -> None:
    assert priority_for(reason, topic) is priority


def test_severe_sentiment_raises_the_priority_to_high() -> None:
    assert priority_for(R.NEGATIVE_SENTIMENT, sentiment=SEVERE_SENTIMENT) is Priority.HIGH
    assert priority_for(R.SENSITIVE_TOPIC, "minors", sentiment=1.0) is Priority.URGENT


def test_an_unknown_reason_is_a_clear_error() -> None:
    with pytest.raises(InvalidInputError, match="unknown escalation reason"):
        priority_for("bored")


# --- what the player is told -------------------------------------------------------------------


@pytest.mark.parametrize("locale", LOCALES)
@pytest.mark.parametrize("reason", list(EscalationReason))
def test_every_reason_has_a_translated_next_step_message_in_each_locale(
    reason: EscalationReason, locale: str
) -> None:
    message = what_happens_next(reason, locale)
    assert message.strip()
    assert message.endswith(NEXT_STEPS[locale]["handoff"])
    if locale != "en":
        assert message != what_happens_next(reason, "en")


@pytest.mark.parametrize(("locale", "language"), [("es-MX", "es"), ("zh_Hant", "zh"), ("pt-BR", "pt")])
def test_a_regional_locale_gets_its_languages_message(locale: str, language: str) -> None:
    assert what_happens_next(R.NO_KNOWLEDGE, locale) == what_happens_next(R.NO_KNOWLEDGE, language)


@pytest.mark.parametrize("locale", ["sw", "not a locale!", None, ""])
def test_a_locale_without_templates_gets_english(locale: str | None) -> None:
    assert what_happens_next(R.POLICY, locale) == what_happens_next(R.POLICY, "en")


@pytest.mark.parametrize("reason", list(EscalationReason))
def test_the_english_message_says_a_person_will_reply_and_promises_no_outcome(
    reason: EscalationReason,
) -> None:
    message = what_happens_next(reason, "en")
    assert "a person will reply here" in message
    assert not re.search(r"\b(will|we'll|I'll) (refund|unban|restore|compensate)|guarantee", message, re.I)


def test_the_sensitive_topic_message_says_the_agent_cannot_change_payments_itself() -> None:
    assert "I can't change payments" in what_happens_next("sensitive_topic", "en")


# --- bad input ---------------------------------------------------------------------------------


def test_an_empty_message_fires_nothing() -> None:
    assert check_triggers("", PERSONA) is None
    assert check_triggers("   \n\t ", PERSONA) is None
    assert negative_sentiment("") == 0.0
    assert not says_not_resolved("")


def test_a_one_megabyte_message_completes_and_is_still_read() -> None:
    filler = "hola 你好 привет नमस्ते 안녕 こんにちは the quick brown fox! " * 20_000
    assert len(filler) > 1_000_000
    assert check_triggers(filler, PERSONA) is None
    hit = check_triggers(filler + "talk to a human", PERSONA)
    assert hit is not None and hit.reason is R.HUMAN_REQUESTED


def test_a_megabyte_of_negated_matches_completes() -> None:
    text = "not an idiot, not a scam, I don't need a human. 不用转人工 " * 20_000
    assert check_triggers(text, PERSONA) is None


@pytest.mark.parametrize(
    "text", ["talk\x00to\x07a human", "talk to a hu\u200bman", "\x1b[31mtalk to a human\x1b[0m"]
)
def test_control_and_invisible_characters_do_not_hide_a_request(text: str) -> None:
    assert detect_human_request(text)


def test_control_characters_alone_fire_nothing() -> None:
    assert check_triggers("\x00\x01\x02\u200b\ufeff\x7f", PERSONA) is None


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("ok 我要转人工 please", R.HUMAN_REQUESTED),
        ("quiero hablar con un agente 谢谢", R.HUMAN_REQUESTED),
        ("my 账号被黑了 help", R.SENSITIVE_TOPIC),
        ("я хочу refund", R.SENSITIVE_TOPIC),
    ],
)
def test_mixed_scripts_are_read(text: str, reason: EscalationReason) -> None:
    hit = check_triggers(text, PERSONA)
    assert hit is not None and hit.reason is reason


def test_a_lone_surrogate_does_not_crash() -> None:
    assert detect_human_request("\ud800 talk to a human")


@pytest.mark.parametrize("value", [None, b"talk to a human", 42])
def test_a_message_that_is_not_a_string_is_a_clear_error(value: object) -> None:
    with pytest.raises(InvalidInputError, match="must be a string"):
        check_triggers(value, PERSONA)  # type: ignore[arg-type]
    with pytest.raises(InvalidInputError, match="must be a string"):
        negative_sentiment(value)  # type: ignore[arg-type]
