"""PII redaction: what is taken out of support text, what stays, and how logs are kept clean."""

from __future__ import annotations

import json
from collections import namedtuple
from collections.abc import Iterator

import pytest
import structlog

from npc_engine.errors import ConfigError
from npc_engine.logging import configure_logging
from npc_engine.support import PiiMatch, PiiRedactor, Redaction, redact_processor

REDACTOR = PiiRedactor(player_id_patterns=[r"EMB-\d{6}"])


def redact(text: str) -> str:
    return REDACTOR.redact(text).text


# emails


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("mail me: john.doe+tag@example.co.uk.", "mail me: [email]."),
        ("<jo_99@mail.example.org>", "<[email]>"),
        ("josé.müller@exämple.de schreibt", "[email] schreibt"),
        ("пишите иван@пример.рф", "пишите [email]"),
        ("Contact: SUPPORT@Example.COM", "Contact: [email]"),
    ],
)
def test_emails_in_several_scripts_are_redacted(text: str, expected: str) -> None:
    assert redact(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "jo [at] example [dot] com",
        "jo(at)example.com",
        "jo at example dot com",
        "jo AT mail DOT example DOT org",
    ],
)
def test_spelled_out_emails_are_redacted(text: str) -> None:
    assert redact(text) == "[email]"


@pytest.mark.parametrize("text", ["look at this.That is odd", "meet me at noon", "at the gate dot"])
def test_an_ordinary_at_is_not_a_spelled_email(text: str) -> None:
    assert redact(text) == text


# phones


@pytest.mark.parametrize(
    "phone",
    [
        "+1 (415) 555-1234",
        "(415) 555-1234",
        "415-555-1234",
        "415.555.1234",
        "1-800-555-1234",
        "+44 20 7946 0958",
        "+44 (0)20 7946 0958",
        "0044 20 7946 0958",
        "+4915112345678",
        "030 12345678",
        "0221/123456",
        "06 12 34 56 78",
        "+33 6 12 34 56 78",
        "+86 138 1234 5678",
        "138-1234-5678",
    ],
)
def test_phone_numbers_in_international_and_national_formats_are_redacted(phone: str) -> None:
    assert redact(f"reach me on {phone}, thanks") == "reach me on [phone], thanks"


def test_chinese_text_with_an_email_and_a_phone_number_keeps_its_words() -> None:
    text = "我的邮箱是zhang.wei@example.com，电话是138 1234 5678。谢谢！"
    assert redact(text) == "我的邮箱是[email]，电话是[phone]。谢谢！"


def test_fullwidth_digits_are_matched_and_the_text_around_them_is_kept_as_written() -> None:
    text = "电话：＋８６ １３８－１２３４－５６７８，邮箱ｊｏ＠ｅｘａｍｐｌｅ．ｃｏｍ，谢谢"
    assert redact(text) == "电话：[phone]，邮箱[email]，谢谢"


def test_digits_of_other_scripts_are_matched() -> None:
    assert redact("फ़ोन: ९८७६५४३२१०") == "फ़ोन: [phone]"


@pytest.mark.parametrize(
    "text",
    [
        "call me at 4155551234",
        "my phone: 4155551234",
        "Telefon 015112345678",
        "llámame al 612 345 678",
        "电话13912345678",
    ],
)
def test_an_unbroken_or_thousands_shaped_number_is_a_phone_after_a_cue_word(text: str) -> None:
    assert REDACTOR.redact(text).counts == {"phone": 1}


def test_a_chinese_mobile_number_needs_no_cue() -> None:
    assert redact("加我13812345678好吗") == "加我[phone]好吗"


def test_a_ten_digit_order_number_without_a_cue_stays() -> None:
    assert redact("order 4829105736 never arrived") == "order 4829105736 never arrived"


@pytest.mark.parametrize(
    "text",
    [
        "I started in 1999 and came back in 2024",
        "it costs $19.99 or €1.299,00",
        "a big one costs 12345.67 gold",
        "order 3 items, then 12 more",
        "client version 1.2.3 (build 10.15.7)",
        "since 2024-05-01, 01.05.2024 and 12/05/2024",
        "on 2024-05-01 12:30 and at 12:30:45",
        "from 2019-2024",
        "a 1000-2000 gold reward",
        "open 10.30-12.45",
        "I have 1 000 000 coins",
        "scores 1999 2000 2001",
        "level 7, room 1234567",
        "build 2024.05.01.1234, client 10.0.19045.4291",
        "invoice 2024-000123",
    ],
)
def test_numbers_that_are_not_phones_stay(text: str) -> None:
    assert redact(text) == text


# cards


@pytest.mark.parametrize(
    "card",
    [
        "4111 1111 1111 1111",
        "4111-1111-1111-1111",
        "4111111111111111",
        "3782 822463 10005",
        "6011000990139424",
    ],
)
def test_luhn_valid_card_numbers_are_redacted(card: str) -> None:
    assert REDACTOR.redact(f"card {card} thanks").text == "card [card] thanks"


def test_a_card_number_is_named_card_not_phone() -> None:
    assert REDACTOR.redact("4111-1111-1111-1111").counts == {"card": 1}


def test_a_four_by_four_grouped_number_is_a_card_even_when_luhn_fails() -> None:
    assert redact("card 4111 1111 1111 1112 please") == "card [card] please"


def test_an_unbroken_luhn_invalid_long_number_stays() -> None:
    assert redact("tracking 4111111111111112") == "tracking 4111111111111112"


def test_a_card_followed_by_another_number_is_still_redacted() -> None:
    assert redact("charged 4111 1111 1111 1111 3 times") == "charged [card] times"


# ip addresses


@pytest.mark.parametrize("ip", ["192.168.1.10", "8.8.8.8", "10.0.0.1:8080", "255.255.255.0"])
def test_ipv4_addresses_are_redacted(ip: str) -> None:
    assert REDACTOR.redact(f"from {ip} today").counts == {"ip": 1}


@pytest.mark.parametrize(
    "ip",
    [
        "2001:0db8:0000:0000:0000:ff00:0042:8329",
        "2001:db8::8a2e:370:7334",
        "fe80::1%eth0",
        "::ffff:192.0.2.1",
    ],
)
def test_ipv6_addresses_are_redacted(ip: str) -> None:
    assert redact(f"from {ip} today") == "from [ip] today"


@pytest.mark.parametrize(
    "text", ["1.2.3", "1.2.3.4.5", "v1.2.3.4", "10.0.0.256", "::1", "12:30:45", "std::vector"]
)
def test_versions_timestamps_and_loopback_are_not_ip_addresses(text: str) -> None:
    assert redact(text) == text


def test_an_ip_address_is_named_ip_not_phone() -> None:
    assert REDACTOR.redact("192.168.100.200").counts == {"ip": 1}


# street addresses


@pytest.mark.parametrize(
    "address",
    [
        "123 Main Street",
        "42 Wallaby Way",
        "221B Baker Street, Apt 4",
        "350 5th Avenue",
        "7 Elm St.",
        "Hauptstraße 5",
        "Berliner Straße 12a",
        "12 rue de la Paix",
        "5, avenue des Champs-Élysées",
        "Calle Mayor 3",
        "Avenida de la Constitución, 25",
        "Via Roma 10",
        "Rua Augusta 100",
    ],
)
def test_street_addresses_in_several_languages_are_redacted(address: str) -> None:
    assert REDACTOR.redact(f"I live at {address}.").text == "I live at [address]."


def test_a_chinese_street_and_number_are_redacted() -> None:
    assert redact("寄到北京市朝阳区建国路88号") == "寄到北京市朝[address]"


@pytest.mark.parametrize(
    "text",
    ["I carried 2 swords on the way", "I bought 3 Gold Rings", "Level 5 Boss fight", "Platz 3 im Turnier"],
)
def test_ordinary_phrases_with_numbers_are_not_addresses(text: str) -> None:
    assert redact(text) == text


# player ids


def test_configured_player_ids_are_redacted() -> None:
    assert redact("my id is EMB-123456, please check") == "my id is [player_id], please check"


def test_fullwidth_player_ids_are_redacted() -> None:
    assert redact("ＩＤ：ＥＭＢ－１２３４５６") == "ＩＤ：[player_id]"


def test_player_ids_stay_without_a_configured_pattern() -> None:
    assert PiiRedactor().redact("EMB-123456").text == "EMB-123456"


def test_a_bad_player_id_pattern_is_a_config_error_naming_it() -> None:
    with pytest.raises(ConfigError, match=r"EMB-\(\\d\{6\}"):
        PiiRedactor(player_id_patterns=[r"EMB-(\d{6}"])


def test_a_player_id_pattern_matching_the_empty_string_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="empty string"):
        PiiRedactor(player_id_patterns=[r"\d*"])


def test_one_string_instead_of_a_list_of_patterns_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="not one string"):
        PiiRedactor(player_id_patterns=r"EMB-\d{6}")


# the result


def test_text_without_pii_comes_back_unchanged() -> None:
    assert REDACTOR.redact("The forge is hot today.") == Redaction("The forge is hot today.", ())


def test_found_gives_kind_and_span_of_the_original_text() -> None:
    text = "ip ＥＭＢ－１２３４５６ or 10.0.0.1"
    result = REDACTOR.redact(text)
    assert result.found == (PiiMatch("player_id", 3, 13), PiiMatch("ip", 17, 25))
    assert text[3:13] == "ＥＭＢ－１２３４５６"


def test_counts_are_given_per_kind() -> None:
    result = REDACTOR.redact("a@example.com, b@example.com, 415-555-1234")
    assert result.counts == {"email": 2, "phone": 1}


def test_repr_of_a_redaction_hides_the_originals() -> None:
    result = REDACTOR.redact("jo@example.com 415-555-1234 EMB-123456")
    shown = repr(result) + repr(result.found[0]) + repr(REDACTOR)
    for original in ("jo@example.com", "415-555-1234", "123456"):
        assert original not in shown


def test_overlapping_matches_merge_into_one_placeholder_named_for_the_longest() -> None:
    assert redact("write EMB-123456@example.com or 4155551234@example.com") == "write [email] or [email]"


def test_placeholders_already_in_the_text_are_left_alone() -> None:
    greedy = PiiRedactor(player_id_patterns=[r"[a-z_]+id\b"])
    assert greedy.redact("[player_id] and [email]").text == "[player_id] and [email]"


IDEMPOTENCE_CORPUS = [
    "jo@example.com, +1 (415) 555-1234, 4111 1111 1111 1111, 10.0.0.1, 123 Main Street, EMB-123456",
    "我的邮箱是zhang.wei@example.com，电话是138 1234 5678",
    "jo [at] example [dot] com lives at 12 rue de la Paix",
    "nothing here but 2024-05-01 and $19.99",
]


@pytest.mark.parametrize("text", IDEMPOTENCE_CORPUS)
def test_redacting_twice_equals_redacting_once(text: str) -> None:
    once = redact(text)
    assert redact(once) == once


def test_a_megabyte_message_is_redacted_up_to_its_last_character() -> None:
    filler = "Order 12345 shipped on 2024-05-01 for $19.99, version 1.2.3 at 12:30. Ça va? "
    text = filler * (1_000_000 // len(filler)) + "write to seed.value@example.com"
    result = REDACTOR.redact(text)
    assert result.text.endswith("write to [email]")
    assert result.counts == {"email": 1}


# structured values and logs


def test_redact_value_recurses_into_dicts_lists_tuples_and_sets() -> None:
    value = {"msg": ["call 415-555-1234", ("jo@example.com", 3)], "ids": {"EMB-123456"}, "n": None}
    assert REDACTOR.redact_value(value) == {
        "msg": ["call [phone]", ("[email]", 3)],
        "ids": {"[player_id]"},
        "n": None,
    }


def test_redact_value_keeps_namedtuples_and_redacts_dict_keys() -> None:
    pair = namedtuple("pair", "who where")
    assert REDACTOR.redact_value(pair("jo@example.com", 1)) == pair("[email]", 1)
    assert REDACTOR.redact_value({"jo@example.com": 1}) == {"[email]": 1}


def test_redact_value_leaves_numbers_and_other_objects_as_they_are() -> None:
    marker = object()
    assert REDACTOR.redact_value([4155551234, 1.5, True, b"jo@example.com", marker]) == [
        4155551234,
        1.5,
        True,
        b"jo@example.com",
        marker,
    ]


def test_the_log_processor_redacts_every_string_including_the_event() -> None:
    process = redact_processor(REDACTOR)
    event = {"event": "ticket from jo@example.com", "detail": {"phone": "415-555-1234"}, "count": 2}
    assert process(None, "info", event) == {
        "event": "ticket from [email]",
        "detail": {"phone": "[phone]"},
        "count": 2,
    }


def test_the_log_processor_renders_other_objects_as_their_redacted_repr() -> None:
    process = redact_processor(REDACTOR)
    out = process(None, "error", {"event": "failed", "error": ValueError("bad address jo@example.com")})
    assert out["error"] == "ValueError('bad address [email]')"


def test_the_log_processor_keeps_the_type_of_structlog_metadata() -> None:
    record = object()
    out = redact_processor(REDACTOR)(None, "info", {"event": "x", "_record": record})
    assert out["_record"] is record


@pytest.fixture
def reset_structlog() -> Iterator[None]:
    yield
    structlog.reset_defaults()


@pytest.mark.usefixtures("reset_structlog")
def test_configure_logging_with_a_redactor_writes_no_pii(capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging("INFO", redactor=REDACTOR)
    try:
        raise RuntimeError("card 4111 1111 1111 1111 declined")
    except RuntimeError:
        structlog.get_logger().exception("payment from jo@example.com", player="EMB-123456")
    line = json.loads(capsys.readouterr().err)
    assert line["event"] == "payment from [email]"
    assert line["player"] == "[player_id]"
    assert "card [card] declined" in line["exception"]
    assert "4111" not in json.dumps(line)


@pytest.mark.usefixtures("reset_structlog")
def test_configure_logging_without_a_redactor_adds_no_redaction(capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging("INFO")
    structlog.get_logger().info("hello", count=1)
    line = json.loads(capsys.readouterr().err)
    assert (line["event"], line["count"], line["level"]) == ("hello", 1, "info")
    assert len(structlog.get_config()["processors"]) == 5
